/**
 * AES-256-GCM encryption at rest with a key id: the data encryption key (DEK) of Raft records
 * and snapshots, and the key-wrapping of the node's secrets by a key-encryption key (KEK).
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomFillSync, type KeyObject } from 'node:crypto'
import { GrpcStatus, InvalidArgumentError, SwarmkitError, cryptoRandom, type Random, type SwarmkitErrorOptions } from '@swarmkit-ts/api'

/** Bytes of an AES-256 key. */
export const AES_256_KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const FORMAT_V1 = 1
/** IVs drawn from the CSPRNG at once: one call per 256 records instead of one per record. */
const IVS_PER_DRAW = 256

/**
 * Thrown when sealed data cannot be opened: a wrong key, wrong additional data, a tampered or
 * truncated ciphertext. gRPC status `FAILED_PRECONDITION` (as raft's `StorageDecryptionError`):
 * the data cannot be used until the right key is given.
 */
export class DecryptionError extends SwarmkitError {
  override readonly name = 'DecryptionError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** The id of the key the data was sealed with (or that failed to open it), when known. */
  readonly keyId: string | undefined
  constructor(message: string, options?: SwarmkitErrorOptions & { keyId?: string | undefined }) {
    super(message, options)
    this.keyId = options?.keyId
  }
  context(): Record<string, string | undefined> {
    return { keyId: this.keyId }
  }
}

/** A data key: 32 secret bytes and the id stored next to everything sealed with it. */
export interface DataKey {
  /** Identifies the key; stored in clear. */
  readonly id: string
  /** The 32-byte AES-256 key. */
  readonly key: Uint8Array
}

/** A fresh data key: 32 random bytes with a random 16-hex-digit id. */
export function generateDataKey(random: Random = cryptoRandom): DataKey {
  const id = Buffer.from(random.bytes(8)).toString('hex')
  return { id, key: random.bytes(AES_256_KEY_BYTES) }
}

/**
 * AES-256-GCM with a key id: each `encrypt` uses a fresh random 96-bit IV (node:crypto's CSPRNG,
 * drawn 256 IVs at a time), and its output is `0x01 ‖ IV (12) ‖ ciphertext ‖ tag (16)`. `aad`
 * is authenticated, not stored.
 *
 * Structurally a `@swarmkit-ts/raft` `Encrypter`, so it plugs into `FileRaftStorage`.
 */
export class AesGcmEncrypter {
  /** The key id. */
  readonly keyId: string
  readonly #key: KeyObject
  readonly #ivs = Buffer.alloc(IV_BYTES * IVS_PER_DRAW)
  #nextIv = IVS_PER_DRAW

  /** @throws InvalidArgumentError (`key.key`, `key.id`) for a key that is not 32 bytes or an empty id. */
  constructor(key: DataKey) {
    if (!(key.key instanceof Uint8Array) || key.key.length !== AES_256_KEY_BYTES) throw new InvalidArgumentError('key.key', `must be ${AES_256_KEY_BYTES} bytes`)
    if (typeof key.id !== 'string' || key.id === '') throw new InvalidArgumentError('key.id', 'must be a non-empty string')
    this.keyId = key.id
    this.#key = createSecretKey(key.key)
  }

  /** Seals `plain`, binding `aad`. */
  encrypt(plain: Uint8Array, aad: Uint8Array): Uint8Array {
    if (this.#nextIv === IVS_PER_DRAW) {
      randomFillSync(this.#ivs)
      this.#nextIv = 0
    }
    const iv = this.#ivs.subarray(this.#nextIv * IV_BYTES, ++this.#nextIv * IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(aad)
    // GCM is a stream mode: the ciphertext is exactly as long as the plaintext, and final() adds nothing.
    const out = new Uint8Array(1 + IV_BYTES + plain.length + TAG_BYTES)
    out[0] = FORMAT_V1
    out.set(iv, 1)
    out.set(cipher.update(plain), 1 + IV_BYTES)
    cipher.final()
    out.set(cipher.getAuthTag(), 1 + IV_BYTES + plain.length)
    return out
  }

  /** Opens what {@link AesGcmEncrypter.encrypt} sealed with the same key and `aad`. @throws DecryptionError otherwise. */
  decrypt(sealed: Uint8Array, aad: Uint8Array): Uint8Array {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES) throw new DecryptionError('sealed data is too short')
    if (sealed[0] !== FORMAT_V1) throw new DecryptionError(`unknown sealed format ${sealed[0]}`)
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length)
    const iv = buf.subarray(1, 1 + IV_BYTES)
    const tag = buf.subarray(buf.length - TAG_BYTES)
    const body = buf.subarray(1 + IV_BYTES, buf.length - TAG_BYTES)
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv)
      decipher.setAAD(aad)
      decipher.setAuthTag(tag)
      return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]))
    } catch (err) {
      throw new DecryptionError(`authentication failed for key ${this.keyId}`, { cause: err, keyId: this.keyId })
    }
  }
}

/**
 * Opens data sealed under any of several keys (by key id) and seals under the newest: what a
 * reader needs during a DEK rotation, while records written under the previous key remain.
 */
export class DataKeyRing {
  readonly #byId: Map<string, AesGcmEncrypter>
  /** The encrypter for new data (the newest key). */
  readonly current: AesGcmEncrypter

  /** @param keys - newest first. @throws InvalidArgumentError (`keys`) when empty or ids repeat. */
  constructor(keys: readonly DataKey[]) {
    const [first] = keys
    if (first === undefined) throw new InvalidArgumentError('keys', 'must hold at least one key')
    this.#byId = new Map()
    for (const [i, k] of keys.entries()) {
      if (this.#byId.has(k.id)) throw new InvalidArgumentError(`keys.${i}.id`, `repeats key id ${k.id}`)
      this.#byId.set(k.id, new AesGcmEncrypter(k))
    }
    this.current = this.#byId.get(first.id) as AesGcmEncrypter
  }

  /** The encrypter for `keyId`, or `undefined` when the ring does not hold it. */
  get(keyId: string): AesGcmEncrypter | undefined {
    return this.#byId.get(keyId)
  }

  /** The key ids, newest first. */
  get keyIds(): string[] {
    return [...this.#byId.keys()]
  }

  /**
   * One encrypter for the whole ring, under the stable key id `ringId`: it seals with the
   * current key and records that key's id inside each sealed payload, and opens with whichever
   * key of the ring sealed it. Give it to `FileRaftStorage` to rotate DEKs without downtime:
   * after a rotation, reopen (or keep) the storage with the new ring's encrypter; records
   * written before stay readable until the old key is retired.
   */
  encrypter(ringId = 'dek-ring'): KeyRingEncrypter {
    return new KeyRingEncrypter(this, ringId)
  }
}

const FORMAT_RING = 2

/** See {@link DataKeyRing.encrypter}. Output: `0x02 ‖ id length (1) ‖ key id ‖ AesGcmEncrypter output`. */
export class KeyRingEncrypter {
  /** The ring's stable id (not a key's). */
  readonly keyId: string
  readonly #ring: DataKeyRing

  constructor(ring: DataKeyRing, ringId: string) {
    if (typeof ringId !== 'string' || ringId === '') throw new InvalidArgumentError('ringId', 'must be a non-empty string')
    this.#ring = ring
    this.keyId = ringId
  }

  /** Seals with the ring's current key. */
  encrypt(plain: Uint8Array, aad: Uint8Array): Uint8Array {
    const cur = this.#ring.current
    const id = Buffer.from(cur.keyId, 'utf8')
    if (id.length > 255) throw new InvalidArgumentError('keyId', 'must be at most 255 bytes')
    return new Uint8Array(Buffer.concat([Buffer.of(FORMAT_RING, id.length), id, cur.encrypt(plain, aad)]))
  }

  /** Opens with the key named inside `sealed`. @throws DecryptionError when the ring lacks it or authentication fails. */
  decrypt(sealed: Uint8Array, aad: Uint8Array): Uint8Array {
    if (sealed.length < 2 || sealed[0] !== FORMAT_RING) throw new DecryptionError('not sealed by a key ring')
    const n = sealed[1] ?? 0
    if (sealed.length < 2 + n) throw new DecryptionError('sealed data is too short')
    const id = Buffer.from(sealed.subarray(2, 2 + n)).toString('utf8')
    const enc = this.#ring.get(id)
    if (enc === undefined) throw new DecryptionError(`data key ${id} is not in the ring (retired?)`, { keyId: id })
    return enc.decrypt(sealed.subarray(2 + n), aad)
  }
}
