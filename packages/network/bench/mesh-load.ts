/**
 * The routing mesh benchmark's processes: the backend (a keep-alive HTTP server and a TCP sink)
 * and the load generator (raw keep-alive HTTP clients and bulk TCP senders), the same generator
 * for the direct and the mesh runs.
 */
import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import { connect, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

/** The backend's ports. */
export interface BackendPorts {
  readonly http: number
  readonly sink: number
}

/**
 * Starts the backend on 127.0.0.1: an HTTP server answering every request with a fixed-size
 * response (no Date header, so every response has the same length), and a sink that reads a
 * connection to its end and answers `done`.
 */
export async function startBackend(): Promise<BackendPorts> {
  const body = Buffer.from('hello from the backend\n')
  const http = createHttpServer((_req, res) => {
    res.sendDate = false
    res.setHeader('Content-Type', 'text/plain')
    res.setHeader('Content-Length', body.length)
    res.end(body)
  })
  http.keepAliveTimeout = 120_000
  http.listen(0, '127.0.0.1')
  const sink = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    s.on('data', () => undefined)
    s.on('end', () => s.end('done'))
    s.on('error', () => undefined)
  })
  sink.listen(0, '127.0.0.1')
  await Promise.all([once(http, 'listening'), once(sink, 'listening')])
  return { http: (http.address() as AddressInfo).port, sink: (sink.address() as AddressInfo).port }
}

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: bench\r\n\r\n')

/** Learns the length of one response (constant, see {@link startBackend}). */
async function responseLength(port: number): Promise<number> {
  const s = connect({ port, host: '127.0.0.1', noDelay: true })
  await once(s, 'connect')
  s.write(REQUEST)
  let buf = Buffer.alloc(0)
  for (;;) {
    const [chunk] = (await once(s, 'data')) as [Buffer]
    buf = Buffer.concat([buf, chunk])
    const text = buf.toString('latin1')
    const end = text.indexOf('\r\n\r\n')
    if (end < 0) continue
    const m = /content-length: (\d+)/i.exec(text.slice(0, end))
    const total = end + 4 + Number(m?.[1] ?? 0)
    if (buf.length >= total) {
      s.destroy()
      return total
    }
  }
}

/** Results of one keep-alive HTTP run. */
export interface HttpRun {
  /** Requests answered while measuring. */
  readonly requests: number
  /** Requests answered in all, warm-up included. */
  readonly allRequests: number
  readonly seconds: number
  readonly perSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

/**
 * `connections` keep-alive connections to `port`, each sending one request at a time for
 * `warmupMs` (not counted) then `durationMs`: requests per second and the latency percentiles.
 */
export async function httpLoad(port: number, connections: number, warmupMs: number, durationMs: number): Promise<HttpRun> {
  const len = await responseLength(port)
  const latencies: number[] = []
  let measuring = false
  let stopping = false
  let count = 0
  let all = 0
  const sockets: Socket[] = []
  const done: Promise<void>[] = []
  for (let i = 0; i < connections; i++) {
    const s = connect({ port, host: '127.0.0.1', noDelay: true })
    sockets.push(s)
    done.push(
      new Promise<void>((resolve, reject) => {
        let got = 0
        let sentAt = 0
        const send = (): void => {
          if (stopping) {
            s.destroy()
            resolve()
            return
          }
          got = 0
          sentAt = performance.now()
          s.write(REQUEST)
        }
        s.on('data', (c: Buffer) => {
          got += c.length
          if (got < len) return
          all++
          if (measuring) {
            count++
            latencies.push(performance.now() - sentAt)
          }
          send()
        })
        s.once('connect', send)
        s.on('error', reject)
        s.once('close', () => (stopping ? resolve() : reject(new Error('a connection closed during the run'))))
      }),
    )
  }
  await new Promise((r) => setTimeout(r, warmupMs))
  measuring = true
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, durationMs))
  measuring = false
  const seconds = (performance.now() - t0) / 1000
  stopping = true
  await Promise.all(done)
  const sorted = Float64Array.from(latencies).sort()
  return { requests: count, allRequests: all, seconds, perSecond: count / seconds, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) }
}

/** Results of one bulk TCP run. */
export interface BulkRun {
  readonly bytes: number
  readonly seconds: number
  readonly mbPerSecond: number
}

/** `connections` connections to `port` each streaming `bytesEach` then waiting for `done`: MB/s (10^6 bytes). */
export async function bulkLoad(port: number, connections: number, bytesEach: number): Promise<BulkRun> {
  const chunk = Buffer.alloc(1024 * 1024, 0x61)
  const t0 = performance.now()
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true, noDelay: true })
          let sent = 0
          const pump = (): void => {
            while (sent < bytesEach) {
              const n = Math.min(chunk.length, bytesEach - sent)
              sent += n
              if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return
            }
            s.off('drain', pump)
            s.end()
          }
          s.on('drain', pump)
          s.once('connect', pump)
          s.on('data', () => undefined)
          s.once('end', () => {
            s.destroy()
            resolve()
          })
          s.on('error', reject)
        }),
    ),
  )
  const seconds = (performance.now() - t0) / 1000
  const bytes = connections * bytesEach
  return { bytes, seconds, mbPerSecond: bytes / 1e6 / seconds }
}
