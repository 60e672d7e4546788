/**
 * Small durable-file helpers for the certificate store: write-then-fsync, rename, fsync of the
 * directory, and reads that tell a missing file apart from other failures.
 *
 * @internal
 */
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises'

/** Writes `data` to `path` (created or truncated with `mode`) and fsyncs it. */
export async function writeSynced(path: string, data: string, mode: number): Promise<void> {
  const fh = await open(path, 'w', mode)
  try {
    await fh.writeFile(data)
    // `open`'s mode only applies to new files (and honours the umask): set it explicitly.
    await fh.chmod(mode)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Fsyncs a directory, so that renames and creations in it are durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Creates `dir` (and parents) and sets its mode. */
export async function ensureDir(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode })
  await chmod(dir, mode)
}

/** The text of `path`, or `undefined` when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Renames `from` to `to` when `from` exists; returns whether it did. */
export async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

/** Removes files, ignoring the missing ones. */
export async function removeFiles(...paths: string[]): Promise<void> {
  for (const p of paths) await rm(p, { force: true })
}
