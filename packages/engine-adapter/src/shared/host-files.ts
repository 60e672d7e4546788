/**
 * Secret and config files of the Docker and containerd runtimes: written to a private host
 * directory and bind-mounted read-only into the container.
 * @internal
 */
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContainerFile } from '../runtime.ts'

/** A host file ready to bind-mount at `target`. */
export interface HostFile {
  readonly source: string
  readonly target: string
}

/**
 * Writes `files` under `dir` (created 0700, one file per entry, numbered), each with its mode and
 * owner. Returns the bind-mount sources. The directory is removed with {@link removeHostFiles}.
 */
export async function writeHostFiles(dir: string, files: readonly ContainerFile[]): Promise<HostFile[]> {
  if (files.length === 0) return []
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o711)
  const out: HostFile[] = []
  for (const [i, f] of files.entries()) {
    const source = join(dir, String(i))
    await writeFile(source, typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : f.data, { mode: 0o600 })
    await chown(source, f.uid ?? 0, f.gid ?? 0)
    await chmod(source, f.mode ?? 0o444)
    out.push({ source, target: f.target })
  }
  return out
}

/** Removes a directory written by {@link writeHostFiles} (no error when absent). */
export async function removeHostFiles(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}
