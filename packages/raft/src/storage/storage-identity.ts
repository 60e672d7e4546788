/**
 * A storage's incarnation: a random non-zero 64-bit number drawn when the storage is created and
 * kept with it. A member that restarts on its storage keeps it; a member whose storage was wiped
 * comes back with another one, which the rest of the cluster refuses (see `RaftNode`).
 *
 * `FileRaftStorage` keeps it in the file `incarnation` of its directory: 16 hex digits and a
 * newline, written once (temporary file, fdatasync, rename, directory fsync) before anything else.
 *
 * @internal
 */
import { join } from 'node:path'
import { open, readFile, rename } from 'node:fs/promises'
import { InvalidArgumentError, generateRaftMemberId } from '@swarmkit-ts/api'
import type { Logger, Random } from '@swarmkit-ts/api'
import { WalCorruptionError } from './wal-errors.ts'
import type { FileRaftStorageHooks } from './wal-files.ts'
import { datasync, syncDir, writeFully } from './wal-files.ts'

/** The name of the file holding a `FileRaftStorage`'s incarnation. */
export const INCARNATION_FILE = 'incarnation'

const U64_LIMIT = 1n << 64n

/** Whether `x` can be an incarnation: a bigint in `[1, 2^64)`. */
export function isIncarnation(x: unknown): x is bigint {
  return typeof x === 'bigint' && x > 0n && x < U64_LIMIT
}

/**
 * Checks an incarnation given by a caller.
 *
 * @throws InvalidArgumentError naming `field` when it is not a bigint in `[1, 2^64)`.
 */
export function assertIncarnation(x: unknown, field: string): bigint {
  if (!isIncarnation(x)) throw new InvalidArgumentError(field, `must be a bigint in [1, 2^64), got ${String(x)}`)
  return x
}

/** Draws a new incarnation: 64 random bits, never 0 (the same draw as a new member id). */
export function drawIncarnation(random: Random): bigint {
  return generateRaftMemberId(random)
}

/** The text of an incarnation file. */
export function formatIncarnation(x: bigint): string {
  return `${x.toString(16).padStart(16, '0')}\n`
}

/**
 * Reads the incarnation of the storage in `dir`, creating it (durably) when the file is missing:
 * a new directory, or one written before storages had an incarnation (logged).
 *
 * @throws WalCorruptionError when the file exists but does not hold an incarnation.
 */
export async function loadIncarnation(dir: string, opts: { random: Random; hooks: FileRaftStorageHooks; logger: Logger; hadState: boolean }): Promise<bigint> {
  const path = join(dir, INCARNATION_FILE)
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (text !== undefined) {
    const m = /^([0-9a-f]{16})\n$/.exec(text)
    const x = m === null ? 0n : BigInt(`0x${m[1] as string}`)
    if (x === 0n) throw new WalCorruptionError(path, 0, 'the incarnation file does not hold 16 hex digits (not all zero) and a newline')
    return x
  }
  const x = drawIncarnation(opts.random)
  if (opts.hadState) opts.logger.warn('raft storage: no incarnation file in a storage that holds a log; created one', { file: path })
  const tmp = `${path}.tmp`
  const fh = await open(tmp, 'w')
  try {
    await writeFully(fh, Buffer.from(formatIncarnation(x), 'utf8'), 0)
    await datasync(fh, tmp, opts.hooks)
  } finally {
    await fh.close()
  }
  await rename(tmp, path)
  await syncDir(dir, opts.hooks)
  return x
}
