/**
 * A classic container's output: `GET /containers/{id}/logs` (follow, tail, since, timestamps,
 * stdout/stderr) and the non-TTY `POST /containers/{id}/attach` of `docker run` without `-d`,
 * both in Docker's multiplexed framing, read from the task logs the workers publish.
 *
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { TaskState } from '@swarmkit-ts/api'
import type { LogMessage, LogStream } from '@swarmkit-ts/core'
import type { DockerApiManager } from '../context.ts'
import { StdStream, stdFrame, writeChunk } from '../streams.ts'
import { observe } from './lifecycle.ts'

/** Options of {@link writeLogs}. */
export interface ClassicLogsOptions {
  /** Only this task's lines (a swarm task shown as a container). */
  readonly taskId?: string
  readonly follow: boolean
  readonly tail?: number
  readonly since?: number
  readonly timestamps: boolean
  readonly streams: readonly LogStream[]
  readonly signal: AbortSignal
}

/** Docker's timestamp prefix of a log line: RFC 3339 with nanoseconds. */
function stamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000000Z`
}

/** One log line as a frame of Docker's multiplexed stream. */
export function logFrame(m: LogMessage, timestamps: boolean): Buffer {
  return stdFrame(m.stream === 'stderr' ? StdStream.stderr : StdStream.stdout, `${timestamps ? `${stamp(m.time)} ` : ''}${m.line}\n`)
}

/** Writes the container's log lines to `res` as frames until they end (or the client goes). */
export async function writeLogs(manager: DockerApiManager, serviceId: string, res: ServerResponse, options: ClassicLogsOptions): Promise<void> {
  if (options.streams.length === 0) return
  const lines = manager.services.logs(serviceId, {
    follow: options.follow,
    ...(options.tail === undefined ? {} : { tail: options.tail }),
    ...(options.since === undefined ? {} : { since: options.since }),
    streams: options.streams,
    signal: options.signal,
  })
  for await (const m of lines) {
    if (options.taskId !== undefined && m.taskId !== options.taskId) continue
    if (!(await writeChunk(res, logFrame(m, options.timestamps)))) return
  }
}

function writeRaw(socket: Duplex, chunk: Buffer | string): Promise<boolean> {
  if (socket.destroyed || socket.writableEnded) return Promise.resolve(false)
  if (socket.write(chunk)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      socket.off('drain', onDrain)
      socket.off('close', onClose)
      resolve(ok)
    }
    const onDrain = (): void => done(true)
    const onClose = (): void => done(false)
    socket.once('drain', onDrain)
    socket.once('close', onClose)
  })
}

/**
 * Serves a non-TTY attach on a hijacked connection: answers `101 UPGRADED`, takes the running task
 * or else waits for the container's next run (the CLI starts it after attaching), follows that
 * task's new output, and once it ends sends the lines that arrived late and closes the connection.
 */
export async function attachOutput(manager: DockerApiManager, serviceId: string, socket: Duplex, streams: readonly LogStream[], signal: AbortSignal): Promise<void> {
  // The CLI half-closes its side (no stdin); node's HTTP server would then end ours: the
  // connection is ours now, so its end is no longer the server's business.
  socket.removeAllListeners('end')
  await writeRaw(socket, 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n')
  const gone = new AbortController()
  const abort = (): void => gone.abort()
  socket.once('close', abort)
  signal.addEventListener('abort', abort, { once: true })
  try {
    // The run to attach to: the running task (docker attach), or else the first task created from
    // now on (docker run / start -a start the container after attaching).
    const store = manager.manager.store
    const current = store.view((tx) => tx.tasks.find({ serviceId }))
    const live = current.find((t) => t.desiredState <= TaskState.RUNNING && t.status.state <= TaskState.RUNNING && t.status.state >= TaskState.ASSIGNED)
    const before = new Set(current.map((t) => t.id))
    const runId = live?.id ?? (await observe(store, serviceId, (v) => (v.service === undefined ? '' : v.tasks.find((t) => !before.has(t.id))?.id), gone.signal))
    if (runId === '') return
    // Lines the running task wrote before the attach are not sent (Docker's attach starts now).
    let skip = 0
    if (live !== undefined) for await (const m of manager.services.logs(serviceId, { follow: false, streams, signal: gone.signal })) if (m.taskId === runId) skip++
    const following = new AbortController()
    gone.signal.addEventListener('abort', () => following.abort(), { once: true })
    const ended = observe(store, serviceId, (v) => (v.tasks.every((t) => t.id !== runId || t.status.state >= TaskState.COMPLETE) ? true : undefined), gone.signal).finally(() => following.abort())
    ended.catch(() => undefined)
    let sent = 0
    try {
      for await (const m of manager.services.logs(serviceId, { follow: true, streams, signal: following.signal })) {
        if (m.taskId !== runId || ++sent <= skip) continue
        if (!(await writeRaw(socket, logFrame(m, false)))) return
      }
    } catch (err) {
      if (!following.signal.aborted) throw err
    }
    await ended
    // Lines published after the end was seen: read the run's whole output once and send what is new.
    let seen = 0
    for await (const m of manager.services.logs(serviceId, { follow: false, streams, signal: gone.signal })) {
      if (m.taskId !== runId || ++seen <= sent) continue
      if (!(await writeRaw(socket, logFrame(m, false)))) return
    }
  } catch (err) {
    if (!gone.signal.aborted) throw err
  } finally {
    socket.off('close', abort)
    signal.removeEventListener('abort', abort)
    socket.end()
  }
}
