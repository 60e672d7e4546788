/**
 * A manager's secrets at rest: its TLS private key and its Raft data keys (DEKs), in one file.
 * Without autolock the file holds them in clear (as SwarmKit does); with autolock they are
 * sealed (AES-256-GCM) under a key-encryption key (KEK) derived from the unlock key, so a
 * restarted manager stays locked until it is given that key.
 */
import { hkdfSync } from 'node:crypto'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { AlreadyExistsError, ClusterLockedError, InvalidArgumentError, NotFoundError, cryptoRandom, type Random } from '@swarmkit-ts/api'
import { AesGcmEncrypter, DataKeyRing, DecryptionError, generateDataKey, type DataKey } from './encrypter.ts'
import { parseUnlockKey } from './unlock-key.ts'

const FORMAT = 'swarmkit-ts/manager-keys/v1'
const KEK_INFO = 'swarmkit-ts/manager-keys/kek/v1'
const SEAL_AAD = Buffer.from(FORMAT)

interface Secrets {
  tlsKeyPem: string
  /** Newest first. */
  deks: DataKey[]
}

interface FileShape {
  format: typeof FORMAT
  kek: 'none' | 'unlock-key'
  salt?: string | undefined
  sealed?: string | undefined
  plain?: { tlsKeyPem: string; deks: { id: string; key: string }[] } | undefined
}

/** Construction options of {@link ManagerKeyStore.create}. */
export interface ManagerKeyStoreInit {
  /** The manager's TLS private key, PEM. */
  tlsKeyPem: string
  /** When set, autolock is on and this unlock key seals the file. */
  unlockKey?: string | undefined
  /** Source of the DEK and salts. @default cryptoRandom */
  random?: Random
}

function kekFrom(unlockKey: string, salt: Uint8Array): AesGcmEncrypter {
  const secret = parseUnlockKey(unlockKey)
  const kek = new Uint8Array(hkdfSync('sha256', secret, salt, KEK_INFO, 32))
  return new AesGcmEncrypter({ id: 'kek', key: kek })
}

function encodeSecrets(s: Secrets): Buffer {
  return Buffer.from(JSON.stringify({ tlsKeyPem: s.tlsKeyPem, deks: s.deks.map((d) => ({ id: d.id, key: Buffer.from(d.key).toString('base64') })) }))
}

function decodeSecrets(v: unknown, path: string): Secrets {
  const o = v as FileShape['plain']
  if (o === undefined || typeof o.tlsKeyPem !== 'string' || !Array.isArray(o.deks) || o.deks.length === 0) {
    throw new InvalidArgumentError('path', `${path} is not a manager key file`)
  }
  return { tlsKeyPem: o.tlsKeyPem, deks: o.deks.map((d) => ({ id: String(d.id), key: new Uint8Array(Buffer.from(String(d.key), 'base64')) })) }
}

async function writeAtomically(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`
  const fh = await open(tmp, 'w', 0o600)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, path)
  const dir = await open(dirname(path), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

async function readShape(path: string): Promise<FileShape> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('manager key file', path, { cause: err })
    throw err
  }
  let shape: FileShape
  try {
    shape = JSON.parse(text) as FileShape
  } catch (err) {
    throw new InvalidArgumentError('path', `${path} is not a manager key file`, { cause: err })
  }
  if (shape.format !== FORMAT) throw new InvalidArgumentError('path', `${path} is not a manager key file (format ${JSON.stringify(shape.format)})`)
  return shape
}

/**
 * The manager key file. Every change is written atomically (temporary file, fsync, rename).
 *
 * DEK rotation without downtime: {@link ManagerKeyStore.rotateDek} makes a new DEK current while
 * keeping the old ones readable ({@link ManagerKeyStore.dataKeys}); once everything sealed under
 * an old key is rewritten (a Raft snapshot past the last old record), {@link ManagerKeyStore.retireOldDeks}
 * drops them.
 */
export class ManagerKeyStore {
  /** The file path. */
  readonly path: string
  #secrets: Secrets
  #unlockKey: string | undefined
  readonly #random: Random

  private constructor(path: string, secrets: Secrets, unlockKey: string | undefined, random: Random) {
    this.path = path
    this.#secrets = secrets
    this.#unlockKey = unlockKey
    this.#random = random
  }

  /**
   * Creates the key file with a fresh DEK.
   *
   * @throws AlreadyExistsError when the file exists. @throws InvalidArgumentError (`unlockKey`) for a malformed key.
   */
  static async create(path: string, init: ManagerKeyStoreInit): Promise<ManagerKeyStore> {
    if (init.unlockKey !== undefined) parseUnlockKey(init.unlockKey)
    if (typeof init.tlsKeyPem !== 'string' || !init.tlsKeyPem.includes('PRIVATE KEY')) throw new InvalidArgumentError('tlsKeyPem', 'must be a PEM private key')
    const exists = await readFile(path).then(
      () => true,
      () => false,
    )
    if (exists) throw new AlreadyExistsError('manager key file', path)
    const random = init.random ?? cryptoRandom
    const store = new ManagerKeyStore(path, { tlsKeyPem: init.tlsKeyPem, deks: [generateDataKey(random)] }, init.unlockKey, random)
    await store.#save()
    return store
  }

  /** Whether the file at `path` is sealed by an unlock key (autolock on). */
  static async isLocked(path: string): Promise<boolean> {
    return (await readShape(path)).kek === 'unlock-key'
  }

  /**
   * Opens the key file. With autolock on, `unlockKey` is required and must be the current one.
   *
   * @throws ClusterLockedError when the file is sealed and no key, or the wrong key, is given.
   * @throws InvalidArgumentError (`unlockKey`) for a malformed key. @throws NotFoundError when there is no file.
   */
  static async open(path: string, options?: { unlockKey?: string | undefined; random?: Random }): Promise<ManagerKeyStore> {
    const shape = await readShape(path)
    const random = options?.random ?? cryptoRandom
    if (shape.kek === 'none') return new ManagerKeyStore(path, decodeSecrets(shape.plain, path), undefined, random)
    const unlockKey = options?.unlockKey
    if (unlockKey === undefined) throw new ClusterLockedError()
    parseUnlockKey(unlockKey)
    const kek = kekFrom(unlockKey, Buffer.from(shape.salt ?? '', 'base64'))
    let plain: Uint8Array
    try {
      plain = kek.decrypt(Buffer.from(shape.sealed ?? '', 'base64'), SEAL_AAD)
    } catch (err) {
      if (err instanceof DecryptionError) throw new ClusterLockedError('invalid unlock key: it does not open this manager\'s keys (was it rotated?)', { cause: err })
      throw err
    }
    return new ManagerKeyStore(path, decodeSecrets(JSON.parse(Buffer.from(plain).toString('utf8')), path), unlockKey, random)
  }

  /** Whether autolock is on. */
  get autolock(): boolean {
    return this.#unlockKey !== undefined
  }

  /** The manager's TLS private key, PEM. */
  get tlsKeyPem(): string {
    return this.#secrets.tlsKeyPem
  }

  /** The data keys: `current` seals new records; older ones still open records written before a rotation. */
  get dataKeys(): DataKeyRing {
    return new DataKeyRing(this.#secrets.deks)
  }

  /** Replaces the TLS key (after a renewal with a new key). */
  async setTlsKey(tlsKeyPem: string): Promise<void> {
    if (typeof tlsKeyPem !== 'string' || !tlsKeyPem.includes('PRIVATE KEY')) throw new InvalidArgumentError('tlsKeyPem', 'must be a PEM private key')
    this.#secrets = { ...this.#secrets, tlsKeyPem }
    await this.#save()
  }

  /** Makes a fresh DEK current, keeping the previous ones for reading; returns it. */
  async rotateDek(): Promise<DataKey> {
    const dek = generateDataKey(this.#random)
    this.#secrets = { ...this.#secrets, deks: [dek, ...this.#secrets.deks] }
    await this.#save()
    return dek
  }

  /** Drops every DEK but the current one (call once nothing sealed under them remains). */
  async retireOldDeks(): Promise<void> {
    this.#secrets = { ...this.#secrets, deks: this.#secrets.deks.slice(0, 1) }
    await this.#save()
  }

  /**
   * Turns autolock on, rotates the unlock key, or (with `undefined`) turns autolock off. Turning
   * it on also rotates the DEK, since the old one was stored in clear.
   *
   * @throws InvalidArgumentError (`unlockKey`) for a malformed key.
   */
  async setUnlockKey(unlockKey: string | undefined): Promise<void> {
    if (unlockKey !== undefined) parseUnlockKey(unlockKey)
    const wasOff = this.#unlockKey === undefined
    this.#unlockKey = unlockKey
    if (wasOff && unlockKey !== undefined) this.#secrets = { ...this.#secrets, deks: [generateDataKey(this.#random), ...this.#secrets.deks] }
    await this.#save()
  }

  /** Deletes the key file. */
  async destroy(): Promise<void> {
    await rm(this.path, { force: true })
  }

  async #save(): Promise<void> {
    let shape: FileShape
    if (this.#unlockKey === undefined) {
      shape = { format: FORMAT, kek: 'none', plain: JSON.parse(encodeSecrets(this.#secrets).toString('utf8')) as FileShape['plain'] }
    } else {
      const salt = this.#random.bytes(16)
      const sealed = kekFrom(this.#unlockKey, salt).encrypt(encodeSecrets(this.#secrets), SEAL_AAD)
      shape = { format: FORMAT, kek: 'unlock-key', salt: Buffer.from(salt).toString('base64'), sealed: Buffer.from(sealed).toString('base64') }
    }
    await writeAtomically(this.path, JSON.stringify(shape, undefined, 2) + '\n')
  }
}
