/**
 * Service and task logs as Docker streams them: each line with, as asked, its timestamp
 * (RFC 3339 with 9 fraction digits) and details (`com.docker.swarm.node.id=…,…service.id=…,
 * …task.id=…`, which the CLI parses to print `web.1.<task>@node |` prefixes), in Docker's
 * multiplexed stdout/stderr framing (or raw for a TTY service).
 *
 * @module
 */
import type { FastifyReply } from 'fastify'
import type { LogMessage, LogStream } from '@swarmkit-ts/core'
import type { DockerApiManager } from '../context.ts'
import { DockerApiError } from '../errors.ts'
import { clientGone, startStream, StdStream, stdFrame, writeChunk } from '../streams.ts'

/** A query value as Docker's `BoolValue` reads it: anything but "", 0, no, false, none is true. */
export function boolQuery(raw: unknown): boolean {
  if (typeof raw !== 'string') return false
  const s = raw.trim().toLowerCase()
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none')
}

/** The parameters of a logs request. */
export interface LogsQuery {
  /** Keep streaming new lines (`follow`). */
  readonly follow: boolean
  /** The last lines of each task only (`tail`; absent: all). */
  readonly tail?: number
  /** Only lines at or after this time, ms since the epoch (`since`). */
  readonly since?: number
  /** Prefix each line with its time (`timestamps`). */
  readonly timestamps: boolean
  /** Prefix each line with the swarm attributes (`details`). */
  readonly details: boolean
  /** The streams asked for (`stdout`, `stderr`; at least one). */
  readonly streams: readonly LogStream[]
}

/** Reads `follow`, `tail`, `since`, `timestamps`, `details`, `stdout`, `stderr` (400 on a bad value). */
export function logsQuery(query: Readonly<Record<string, unknown>>): LogsQuery {
  const streams: LogStream[] = []
  if (boolQuery(query['stdout'])) streams.push('stdout')
  if (boolQuery(query['stderr'])) streams.push('stderr')
  if (streams.length === 0) throw new DockerApiError(400, 'Bad parameters: you must choose at least one stream')
  let tail: number | undefined
  const rawTail = query['tail']
  if (typeof rawTail === 'string' && rawTail !== '' && rawTail !== 'all') {
    if (!/^\d+$/.test(rawTail)) throw new DockerApiError(400, `invalid tail ${JSON.stringify(rawTail)}: must be a number or "all"`)
    tail = Number(rawTail)
  }
  let since: number | undefined
  const rawSince = query['since']
  if (typeof rawSince === 'string' && rawSince !== '' && rawSince !== '0') {
    // The CLI sends seconds since the epoch with an optional fraction ("1700000000.123456789").
    if (!/^\d+(\.\d+)?$/.test(rawSince)) throw new DockerApiError(400, `invalid since ${JSON.stringify(rawSince)}: must be seconds since the epoch`)
    since = Math.floor(Number(rawSince) * 1000)
  }
  return {
    follow: boolQuery(query['follow']),
    ...(tail === undefined ? {} : { tail }),
    ...(since === undefined ? {} : { since }),
    timestamps: boolQuery(query['timestamps']),
    details: boolQuery(query['details']),
    streams,
  }
}

/** A time as Docker's log timestamps write it: RFC 3339 with exactly 9 fraction digits. */
function logTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000000Z`
}

/** One line as Docker writes it (timestamp, details, the line and its newline). */
export function formatLogLine(m: LogMessage, q: Pick<LogsQuery, 'timestamps' | 'details'>): string {
  let line = `${m.line}\n`
  if (q.details) {
    const attrs = [
      ['com.docker.swarm.node.id', m.nodeId],
      ['com.docker.swarm.service.id', m.serviceId],
      ['com.docker.swarm.task.id', m.taskId],
    ]
      .map(([k, v]) => `${encodeURIComponent(k ?? '')}=${encodeURIComponent(v ?? '')}`)
      .join(',')
    line = `${attrs} ${line}`
  }
  if (q.timestamps) line = `${logTime(m.time)} ${line}`
  return line
}

/**
 * Streams the logs of service `serviceId` (only task `taskId`'s lines when given) to `reply`,
 * until they end (no follow), the client goes, or the server closes.
 */
export async function streamLogs(
  manager: DockerApiManager,
  reply: FastifyReply,
  serverSignal: AbortSignal,
  target: { readonly serviceId: string; readonly taskId?: string; readonly tty: boolean },
  q: LogsQuery,
): Promise<void> {
  // API 1.41 names both the raw (TTY) and the multiplexed stream so (1.42 added multiplexed-stream).
  const res = startStream(reply, 'application/vnd.docker.raw-stream')
  const signal = clientGone(res, serverSignal)
  const lines = manager.services.logs(target.serviceId, {
    follow: q.follow,
    streams: q.streams,
    signal,
    ...(q.tail === undefined ? {} : { tail: q.tail }),
    ...(q.since === undefined ? {} : { since: q.since }),
  })
  try {
    for await (const m of lines) {
      if (target.taskId !== undefined && m.taskId !== target.taskId) continue
      const text = formatLogLine(m, q)
      const chunk = target.tty ? text : stdFrame(m.stream === 'stderr' ? StdStream.stderr : StdStream.stdout, text)
      if (!(await writeChunk(res, chunk))) break
    }
  } catch (err) {
    if (!signal.aborted) {
      // Headers are gone: the error goes on the stream, as Docker writes a late error.
      const message = err instanceof Error ? err.message : String(err)
      await writeChunk(res, target.tty ? `Error: ${message}\n` : stdFrame(StdStream.stderr, `Error: ${message}\n`))
    }
  } finally {
    if (!res.writableEnded) res.end()
  }
}
