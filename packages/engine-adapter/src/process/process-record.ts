import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContainerInfo, RuntimeContainerSpec, PublishedPort } from '../runtime.ts'

/** A container's spec as persisted: file contents live in the container's `files/` directory only. */
export type StoredSpec = Omit<RuntimeContainerSpec, 'files'> & { files?: { target: string; mode: number }[] }

/** What {@link ProcessRuntime} persists per container in `container.json`. */
export interface ProcessRecord extends Pick<ContainerInfo, 'id' | 'state' | 'createdAt' | 'startedAt' | 'finishedAt' | 'exitCode' | 'error' | 'health'> {
  version: 1
  spec: StoredSpec
  labels: Record<string, string>
  ports: PublishedPort[]
  /** The workload's pid (leader of its own process group and session) and its kernel start time. */
  pid: number | undefined
  pidStartTime: string | undefined
}

/** Writes the record atomically (temp file + rename). */
export async function writeRecord(dir: string, record: ProcessRecord): Promise<void> {
  const tmp = join(dir, 'container.json.tmp')
  await writeFile(tmp, JSON.stringify(record))
  await rename(tmp, join(dir, 'container.json'))
}

/** Reads a record, or `undefined` when the directory has none (a create that did not finish). */
export async function readRecord(dir: string): Promise<ProcessRecord | undefined> {
  try {
    const raw = JSON.parse(await readFile(join(dir, 'container.json'), 'utf8')) as ProcessRecord
    return raw.version === 1 ? raw : undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * The kernel start time of `pid` (field 22 of `/proc/<pid>/stat`, clock ticks since boot), or
 * `undefined` when the process does not exist or is a zombie. Together with the pid it names one
 * process for its whole life, so a reused pid is never mistaken for ours. Linux only.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined
    return rest[19]
  } catch {
    return undefined
  }
}

/** Reads the exit code the shim wrote, if it did. */
export async function readExitCode(dir: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt((await readFile(join(dir, 'exit-code'), 'utf8')).trim(), 10)
    return Number.isInteger(n) ? n : undefined
  } catch {
    return undefined
  }
}
