/**
 * The worker's task database: per task, the Task object as last assigned with its latest local
 * status in `status`, and whether it is still assigned to this node (SwarmKit's BoltDB
 * `<state-dir>/worker/tasks.db`, bucket `v1/tasks/<id>/{data,status,assigned}`).
 *
 * {@link FileTaskDb} keeps one file per task in `<stateDir>/worker/tasks/`, each written
 * atomically (temp file, fsync, rename, fsync of the directory), so a crash leaves either the
 * old or the new version. {@link MemoryTaskDb} is the same contract without a disk, for
 * simulations of many nodes.
 *
 * @module
 */
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { InvalidArgumentError, decodeObject, encodeObject, silentLogger } from '@swarmkit-ts/api'
import type { Logger, Task, TaskStatus } from '@swarmkit-ts/api'

/** One task as the worker keeps it. */
export interface TaskDbEntry {
  /** The task as last assigned, with `status` the latest status observed on this node. */
  readonly task: Task
  /** False once the managers removed the task; its container is then removed and the entry deleted. */
  readonly assigned: boolean
}

/**
 * Where a worker keeps its tasks across restarts. Reads are synchronous (from memory); a write
 * resolves once it is durable. Writes of one task apply in call order; a write of an unknown
 * task's status or flag is a no-op.
 */
export interface TaskDb {
  /** Every entry. */
  entries(): readonly TaskDbEntry[]
  /** The entry of `taskId`, if any. */
  get(taskId: string): TaskDbEntry | undefined
  /** Stores (replaces) a whole entry. */
  put(entry: TaskDbEntry): Promise<void>
  /** Replaces the status of a known task. */
  putStatus(taskId: string, status: TaskStatus): Promise<void>
  /** Sets the `assigned` flag of a known task. */
  setAssigned(taskId: string, assigned: boolean): Promise<void>
  /** Forgets a task. */
  delete(taskId: string): Promise<void>
  /** Waits for every write in flight. */
  close(): Promise<void>
}

/**
 * An entry as {@link MemoryTaskDb} holds it: the status of the last `putStatus` is kept apart
 * until the entry is read, so a status costs no copy of the task (the task manager holds its
 * own), and a flag or a status is set in place.
 */
interface HeldEntry {
  task: Task
  assigned: boolean
  status: TaskStatus | undefined
}

/** The entry of `held` as read: its task with the latest status (merged once, then kept). */
function readEntry(held: HeldEntry): TaskDbEntry {
  if (held.status !== undefined) {
    held.task = { ...held.task, status: held.status }
    held.status = undefined
  }
  return { task: held.task, assigned: held.assigned }
}

/** A {@link TaskDb} in memory (nothing survives the process): for simulations and tests. */
export class MemoryTaskDb implements TaskDb {
  readonly #entries = new Map<string, HeldEntry>()
  entries(): readonly TaskDbEntry[] {
    return [...this.#entries.values()].map(readEntry)
  }
  get(taskId: string): TaskDbEntry | undefined {
    const held = this.#entries.get(taskId)
    return held === undefined ? undefined : readEntry(held)
  }
  put(entry: TaskDbEntry): Promise<void> {
    this.#entries.set(entry.task.id, { task: entry.task, assigned: entry.assigned, status: undefined })
    return Promise.resolve()
  }
  putStatus(taskId: string, status: TaskStatus): Promise<void> {
    const held = this.#entries.get(taskId)
    if (held !== undefined) held.status = status
    return Promise.resolve()
  }
  setAssigned(taskId: string, assigned: boolean): Promise<void> {
    const held = this.#entries.get(taskId)
    if (held !== undefined) held.assigned = assigned
    return Promise.resolve()
  }
  delete(taskId: string): Promise<void> {
    this.#entries.delete(taskId)
    return Promise.resolve()
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

// ---------------------------------------------------------------- file format

/** `SKWT`: swarmkit-ts worker task. */
const MAGIC = 0x534b5754
const FORMAT_VERSION = 1
/** magic u32, version u8, flags u8, task length u32. */
const HEADER_BYTES = 10
const CRC_BYTES = 4
const FLAG_ASSIGNED = 1
const TEMP_SUFFIX = '.tmp'
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

/**
 * The bytes of one entry: a header (magic, format version, flags, length), the task in the
 * api's protobuf encoding, and a CRC-32 of everything before it.
 */
export function encodeTaskDbEntry(entry: TaskDbEntry): Uint8Array {
  const task = encodeObject('task', entry.task)
  const buf = Buffer.alloc(HEADER_BYTES + task.length + CRC_BYTES)
  buf.writeUInt32BE(MAGIC, 0)
  buf.writeUInt8(FORMAT_VERSION, 4)
  buf.writeUInt8(entry.assigned ? FLAG_ASSIGNED : 0, 5)
  buf.writeUInt32BE(task.length, 6)
  buf.set(task, HEADER_BYTES)
  buf.writeUInt32BE(crc32(buf.subarray(0, HEADER_BYTES + task.length)), HEADER_BYTES + task.length)
  return buf
}

/** Decodes {@link encodeTaskDbEntry}'s bytes; throws `InvalidArgumentError` (field `bytes`) for anything else. */
export function decodeTaskDbEntry(bytes: Uint8Array): TaskDbEntry {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < HEADER_BYTES + CRC_BYTES) throw new InvalidArgumentError('bytes', `truncated: ${buf.length} bytes`)
  if (buf.readUInt32BE(0) !== MAGIC) throw new InvalidArgumentError('bytes', 'not a task db entry (bad magic)')
  const version = buf.readUInt8(4)
  if (version !== FORMAT_VERSION) throw new InvalidArgumentError('bytes', `unknown format version ${version}`)
  const length = buf.readUInt32BE(6)
  if (buf.length !== HEADER_BYTES + length + CRC_BYTES) throw new InvalidArgumentError('bytes', `length ${buf.length} does not match the header (${HEADER_BYTES + length + CRC_BYTES})`)
  if (buf.readUInt32BE(HEADER_BYTES + length) !== crc32(buf.subarray(0, HEADER_BYTES + length))) throw new InvalidArgumentError('bytes', 'checksum mismatch')
  const task = decodeObject('task', buf.subarray(HEADER_BYTES, HEADER_BYTES + length))
  return { task, assigned: (buf.readUInt8(5) & FLAG_ASSIGNED) !== 0 }
}

// ---------------------------------------------------------------- file task db

/** Options of {@link FileTaskDb.open}. */
export interface FileTaskDbOptions {
  /** Where dropped (corrupt or unfinished) files are reported. @default silentLogger */
  logger?: Logger
}

interface PendingWrite {
  started: boolean
  readonly promise: Promise<void>
}

/**
 * A {@link TaskDb} on disk: one file per task in `<stateDir>/worker/tasks/`. Every write goes to
 * `<id>.tmp`, is fsynced, renamed over `<id>` and the directory fsynced. Writes of one task are
 * serialised, and a write that has not started yet is coalesced with the next one (it writes the
 * latest entry). At open, temp files (a write cut short) and files that fail to decode are
 * dropped with a warning — a crash never stops the worker from starting.
 */
export class FileTaskDb implements TaskDb {
  /** The directory holding the task files. */
  readonly dir: string
  readonly #entries: Map<string, TaskDbEntry>
  readonly #writes = new Map<string, PendingWrite>()

  private constructor(dir: string, entries: Map<string, TaskDbEntry>) {
    this.dir = dir
    this.#entries = entries
  }

  /** Opens (creating) the database under `stateDir` and reads every task back. */
  static async open(stateDir: string, options: FileTaskDbOptions = {}): Promise<FileTaskDb> {
    const logger = options.logger ?? silentLogger
    const dir = join(stateDir, 'worker', 'tasks')
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const entries = new Map<string, TaskDbEntry>()
    let dropped = false
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name)
      if (name.endsWith(TEMP_SUFFIX)) {
        logger.warn('task db: dropped an unfinished write', { file: name })
        await unlink(path)
        dropped = true
        continue
      }
      try {
        const entry = decodeTaskDbEntry(await readFile(path))
        if (entry.task.id !== name) throw new InvalidArgumentError('task.id', `${entry.task.id} does not match its file name`)
        entries.set(name, entry)
      } catch (err) {
        logger.warn('task db: dropped a corrupt task file', { file: name, err: err instanceof Error ? err.message : String(err) })
        await unlink(path)
        dropped = true
      }
    }
    if (dropped) await syncDir(dir)
    return new FileTaskDb(dir, entries)
  }

  entries(): readonly TaskDbEntry[] {
    return [...this.#entries.values()]
  }

  get(taskId: string): TaskDbEntry | undefined {
    return this.#entries.get(taskId)
  }

  put(entry: TaskDbEntry): Promise<void> {
    const id = entry.task.id
    if (!SAFE_ID.test(id)) return Promise.reject(new InvalidArgumentError('task.id', `not usable as a file name: ${JSON.stringify(id)}`))
    this.#entries.set(id, entry)
    return this.#schedule(id)
  }

  putStatus(taskId: string, status: TaskStatus): Promise<void> {
    const e = this.#entries.get(taskId)
    if (e === undefined) return Promise.resolve()
    this.#entries.set(taskId, { ...e, task: { ...e.task, status } })
    return this.#schedule(taskId)
  }

  setAssigned(taskId: string, assigned: boolean): Promise<void> {
    const e = this.#entries.get(taskId)
    if (e === undefined || e.assigned === assigned) return Promise.resolve()
    this.#entries.set(taskId, { ...e, assigned })
    return this.#schedule(taskId)
  }

  delete(taskId: string): Promise<void> {
    if (!this.#entries.delete(taskId)) return Promise.resolve()
    return this.#schedule(taskId)
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#writes.values()].map((w) => w.promise))
  }

  /** Writes the current entry of `id` (or removes its file) after any write in flight. */
  #schedule(id: string): Promise<void> {
    const current = this.#writes.get(id)
    if (current !== undefined && !current.started) return current.promise
    const previous = current?.promise.catch(() => undefined) ?? Promise.resolve()
    const write: PendingWrite = {
      started: false,
      promise: previous
        .then(() => {
          write.started = true
          return this.#writeNow(id)
        })
        .finally(() => {
          if (this.#writes.get(id) === write) this.#writes.delete(id)
        }),
    }
    this.#writes.set(id, write)
    return write.promise
  }

  async #writeNow(id: string): Promise<void> {
    const path = join(this.dir, id)
    const entry = this.#entries.get(id)
    if (entry === undefined) {
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
    } else {
      const temp = path + TEMP_SUFFIX
      const fh = await open(temp, 'w', 0o600)
      try {
        await fh.writeFile(encodeTaskDbEntry(entry))
        await fh.sync()
      } finally {
        await fh.close()
      }
      await rename(temp, path)
    }
    await syncDir(this.dir)
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
