/**
 * Errors of {@link FileRaftStorage}'s files: a damaged WAL, a damaged snapshot file, a record
 * that cannot be decrypted. Each is a `SwarmkitError` of `@swarmkit-ts/api`; check them by
 * `err.name` or class.
 */
import { GrpcStatus, SwarmkitError } from '@swarmkit-ts/api'
import type { RaftErrorOptions } from '../errors.ts'

/**
 * A WAL segment is damaged before its tail (a CRC mismatch, a bad length, an undecodable or
 * out-of-order record, a missing segment): opening refuses rather than drop committed entries.
 * A torn tail of the last segment is not an error: it is truncated and logged.
 * gRPC status `DATA_LOSS`.
 */
export class WalCorruptionError extends SwarmkitError {
  override readonly name = 'WalCorruptionError'
  readonly code = GrpcStatus.DATA_LOSS
  /** Path of the damaged file. */
  readonly file: string
  /** Byte offset of the damaged record in `file`. */
  readonly offset: number
  /** What is wrong, e.g. `crc mismatch`. */
  readonly reason: string
  constructor(file: string, offset: number, reason: string, options?: RaftErrorOptions) {
    super(`WAL corrupted: ${file} at byte ${offset}: ${reason}`, options)
    this.file = file
    this.offset = offset
    this.reason = reason
  }
  /** `{ file, offset, reason }`. */
  context(): Record<string, string | undefined> {
    return { file: this.file, offset: String(this.offset), reason: this.reason }
  }
}

/**
 * The snapshot the WAL refers to is missing or damaged, and no older valid snapshot is still
 * covered by the WAL. gRPC status `DATA_LOSS`.
 */
export class SnapshotCorruptionError extends SwarmkitError {
  override readonly name = 'SnapshotCorruptionError'
  readonly code = GrpcStatus.DATA_LOSS
  /** Path of the missing or damaged snapshot file. */
  readonly file: string
  /** What is wrong, e.g. `crc mismatch`. */
  readonly reason: string
  constructor(file: string, reason: string, options?: RaftErrorOptions) {
    super(`snapshot file ${file}: ${reason}`, options)
    this.file = file
    this.reason = reason
  }
  /** `{ file, reason }`. */
  context(): Record<string, string | undefined> {
    return { file: this.file, reason: this.reason }
  }
}

/**
 * A record or snapshot is encrypted and cannot be opened: no `Encrypter` was given, it has
 * another key, or decryption failed (wrong key or tampered data). gRPC status
 * `FAILED_PRECONDITION`: the storage cannot be used until the right key is given.
 */
export class StorageDecryptionError extends SwarmkitError {
  override readonly name = 'StorageDecryptionError'
  readonly code = GrpcStatus.FAILED_PRECONDITION
  /** Path of the file holding the sealed data. */
  readonly file: string
  /** Byte offset of the record in `file` (0 for a snapshot file). */
  readonly offset: number
  /** The key id the data was sealed with. */
  readonly keyId: string
  constructor(file: string, offset: number, keyId: string, reason: string, options?: RaftErrorOptions) {
    super(`cannot decrypt ${file} at byte ${offset} (key ${JSON.stringify(keyId)}): ${reason}`, options)
    this.file = file
    this.offset = offset
    this.keyId = keyId
  }
  /** `{ file, offset, keyId }`. */
  context(): Record<string, string | undefined> {
    return { file: this.file, offset: String(this.offset), keyId: this.keyId }
  }
}
