/**
 * Encryption of record payloads: with an {@link Encrypter}, a payload is sealed and wrapped in a
 * `Sealed` message (key id + ciphertext) and the record's type byte gets {@link SEALED_FLAG}.
 * The CRC covers the sealed bytes, so damage is still told from a wrong key.
 *
 * @internal
 */
import type { Encrypter } from './encrypter.ts'
import { decodeSealed, encodeSealed } from './wal-codec.ts'
import { StorageDecryptionError, WalCorruptionError } from './wal-errors.ts'
import { SEALED_FLAG } from './wal-record.ts'

const utf8 = new TextEncoder()

const recordAads = new Map<number, Uint8Array>()

/**
 * Additional authenticated data of a WAL record: binds the record type. One shared array per
 * type (every record is sealed with it): never write into it.
 */
export function walRecordAad(type: number): Uint8Array {
  let aad = recordAads.get(type)
  if (aad === undefined) recordAads.set(type, (aad = utf8.encode(`swarmkit-ts/raft-wal/v1/type=${type}`)))
  return aad
}

/** Additional authenticated data of a snapshot file: binds the position named by the file. */
export function snapshotAad(term: number, index: number): Uint8Array {
  return utf8.encode(`swarmkit-ts/raft-snapshot/v1/term=${term}/index=${index}`)
}

/** The type byte and payload to frame: sealed when an encrypter is given. */
export function sealPayload(type: number, payload: Uint8Array, encrypter: Encrypter | undefined, aad: Uint8Array): { typeByte: number; payload: Uint8Array } {
  if (encrypter === undefined) return { typeByte: type, payload }
  const sealed = encodeSealed({ keyId: encrypter.keyId, sealed: encrypter.encrypt(payload, aad) })
  return { typeByte: type | SEALED_FLAG, payload: sealed }
}

/**
 * The clear payload of a record read from `file` at `offset`. A plaintext record is accepted
 * with or without an encrypter (so that encryption can be turned on for an existing log).
 *
 * @throws StorageDecryptionError when the record is sealed and cannot be opened.
 * @throws WalCorruptionError when the `Sealed` wrapper is malformed.
 */
export function openPayload(typeByte: number, payload: Uint8Array, encrypter: Encrypter | undefined, aad: Uint8Array, file: string, offset: number): Uint8Array {
  if ((typeByte & SEALED_FLAG) === 0) return payload
  let sealed
  try {
    sealed = decodeSealed(payload)
  } catch (err) {
    throw new WalCorruptionError(file, offset, 'malformed sealed payload', { cause: err })
  }
  if (encrypter === undefined) throw new StorageDecryptionError(file, offset, sealed.keyId, 'the data is encrypted and no encrypter was given')
  if (encrypter.keyId !== sealed.keyId) throw new StorageDecryptionError(file, offset, sealed.keyId, `the encrypter has key ${JSON.stringify(encrypter.keyId)}`)
  try {
    return encrypter.decrypt(sealed.sealed, aad)
  } catch (err) {
    throw new StorageDecryptionError(file, offset, sealed.keyId, 'decryption failed', { cause: err })
  }
}
