/**
 * Errors of {@link FileRaftStorage}'s files: a damaged WAL, a damaged snapshot file, a record
 * that cannot be decrypted. Check them by `err.name`.
 */
import type { RaftErrorOptions } from './errors.ts'

function superOptions(options: RaftErrorOptions | undefined): ErrorOptions | undefined {
  return options?.cause === undefined ? undefined : { cause: options.cause }
}

/**
 * A WAL segment is damaged before its tail (a CRC mismatch, a bad length, an undecodable or
 * out-of-order record, a missing segment): opening refuses rather than drop committed entries.
 * A torn tail of the last segment is not an error: it is truncated and logged.
 */
export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError'
  /** Path of the damaged file. */
  readonly file: string
  /** Byte offset of the damaged record in `file`. */
  readonly offset: number
  /** What is wrong, e.g. `crc mismatch`. */
  readonly reason: string
  constructor(file: string, offset: number, reason: string, options?: RaftErrorOptions) {
    super(`WAL corrupted: ${file} at byte ${offset}: ${reason}`, superOptions(options))
    this.file = file
    this.offset = offset
    this.reason = reason
  }
}

/**
 * The snapshot the WAL refers to is missing or damaged, and no older valid snapshot is still
 * covered by the WAL.
 */
export class SnapshotCorruptionError extends Error {
  override readonly name = 'SnapshotCorruptionError'
  /** Path of the missing or damaged snapshot file. */
  readonly file: string
  /** What is wrong, e.g. `crc mismatch`. */
  readonly reason: string
  constructor(file: string, reason: string, options?: RaftErrorOptions) {
    super(`snapshot file ${file}: ${reason}`, superOptions(options))
    this.file = file
    this.reason = reason
  }
}

/**
 * A record or snapshot is encrypted and cannot be opened: no `Encrypter` was given, it has
 * another key, or decryption failed (wrong key or tampered data).
 */
export class StorageDecryptionError extends Error {
  override readonly name = 'StorageDecryptionError'
  /** Path of the file holding the sealed data. */
  readonly file: string
  /** Byte offset of the record in `file` (0 for a snapshot file). */
  readonly offset: number
  /** The key id the data was sealed with. */
  readonly keyId: string
  constructor(file: string, offset: number, keyId: string, reason: string, options?: RaftErrorOptions) {
    super(`cannot decrypt ${file} at byte ${offset} (key ${JSON.stringify(keyId)}): ${reason}`, superOptions(options))
    this.file = file
    this.offset = offset
    this.keyId = keyId
  }
}
