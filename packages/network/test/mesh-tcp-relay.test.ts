// The routing mesh's TCP relay (src/mesh/tcp-relay.ts) on real loopback sockets: bytes arrive
// unchanged and in order whatever the write sizes and however slowly each side reads (the relay
// reads into its own buffers and must not overwrite bytes a pending write still holds), FINs and
// resets pass through, and an accepted socket is re-wrapped only when it is as expected.
import { createHash } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { connect, createServer, Socket } from 'node:net'
import type { AddressInfo, Server } from 'node:net'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { RoutingMesh, StaticEndpointSource } from '../src/index.ts'
import { adoptAccepted, ReadRelay, RELAY_MAX_READ, RELAY_MIN_READ } from '../src/mesh/tcp-relay.ts'
import { freePort, waitFor } from './helpers/mesh-net.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConnection)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
  return { server, port: (server.address() as AddressInfo).port }
}

/** A mesh on a free port in front of `backendPort`; the published port. */
async function meshTo(backendPort: number): Promise<number> {
  const port = await freePort()
  const source = new StaticEndpointSource({ entries: [{ publishedPort: port, protocol: 'tcp', serviceId: 's', serviceName: 'relay', backends: [{ taskId: 't', host: '127.0.0.1', port: backendPort }] }] })
  const mesh = new RoutingMesh({ source, listenAddress: '127.0.0.1' })
  cleanups.push(() => mesh.stop())
  await mesh.start()
  return port
}

/** `n` deterministic bytes without a short period (SHA-256 in counter mode). */
function bytes(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n)
  for (let off = 0, i = 0; off < n; i++, off += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off)
  return out
}

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** Reads `s` to its end, pausing `pauseMs` after every `pauseEvery` bytes (a slow reader). */
function readAll(s: Socket, pauseEvery: number, pauseMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let sincePause = 0
    s.on('data', (c: Buffer) => {
      chunks.push(Buffer.from(c))
      sincePause += c.length
      if (pauseMs > 0 && sincePause >= pauseEvery) {
        sincePause = 0
        s.pause()
        setTimeout(() => s.resume(), pauseMs)
      }
    })
    s.once('end', () => resolve(Buffer.concat(chunks)))
    s.once('error', reject)
    s.resume()
  })
}

/** Writes `data` in pieces of the given sizes (cycling), waiting for 'drain' when asked to, then ends. */
async function writeAll(s: Socket, data: Buffer, sizes: readonly number[]): Promise<void> {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length] ?? 1, data.length - off)
    const ok = s.write(data.subarray(off, off + n))
    off += n
    if (!ok) await once(s, 'drain')
  }
  s.end()
}

/** A backend echoing what it reads (slowly, as `readAll` does), ending when the client ends. */
async function echoBackend(pauseEvery: number, pauseMs: number): Promise<number> {
  const { port } = await listen((s) => {
    s.on('error', () => undefined)
    let sincePause = 0
    s.on('data', (c: Buffer) => {
      sincePause += c.length
      if (!s.write(c)) s.pause()
      else if (pauseMs > 0 && sincePause >= pauseEvery) {
        sincePause = 0
        s.pause()
        setTimeout(() => s.resume(), pauseMs)
      }
    })
    s.on('drain', () => s.resume())
    s.once('end', () => s.end())
  })
  return port
}

async function echoThrough(port: number, data: Buffer, sizes: readonly number[], pauseEvery: number, pauseMs: number): Promise<Buffer> {
  const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  cleanups.push(() => void client.destroy())
  await once(client, 'connect')
  const [echoed] = await Promise.all([readAll(client, pauseEvery, pauseMs), writeAll(client, data, sizes)])
  return echoed
}

/** A target socket whose writes the test completes: a pending chunk is kept by reference, as a real write keeps it. */
class FakeTarget extends EventEmitter {
  readonly delivered: Buffer[] = []
  /** Pending writes: the chunk written and a copy of its bytes at the time. */
  pending: { chunk: Uint8Array; copy: Buffer }[] = []
  writableLength = 0
  stalled = false
  write(chunk: Uint8Array): boolean {
    if (this.stalled || this.pending.length > 0) {
      this.pending.push({ chunk, copy: Buffer.from(chunk) })
      this.writableLength += chunk.length
    } else this.delivered.push(Buffer.from(chunk))
    return this.writableLength < 256 * 1024
  }
  /** Completes the pending writes, with the bytes their chunks hold now. */
  flush(): void {
    for (const p of this.pending) this.delivered.push(Buffer.from(p.chunk))
    this.pending = []
    this.writableLength = 0
  }
  end(): void {}
}

type RelayOp = { read: number } | { stall: boolean } | 'flush'

/** Feeds `ops` to a ReadRelay over a FakeTarget: every read fills the relay's buffer with fresh bytes. */
function runRelay(ops: readonly RelayOp[]): { sent: Buffer; delivered: Buffer } {
  const relay = new ReadRelay()
  const target = new FakeTarget()
  const source = Object.assign(new EventEmitter(), { resume: () => undefined, pause: () => undefined })
  relay.start(source as unknown as Socket, target as unknown as Socket)
  const sent: Buffer[] = []
  let counter = 0
  for (const op of ops) {
    if (op === 'flush') target.flush()
    else if ('stall' in op) target.stalled = op.stall
    else {
      const { buffer } = relay.onread
      const buf = typeof buffer === 'function' ? buffer() : buffer
      const n = Math.max(1, Math.min(buf.length, Math.round(op.read * buf.length)))
      for (let i = 0; i < n; i++) buf[i] = (counter++ * 131) & 0xff
      sent.push(Buffer.from(buf.subarray(0, n)))
      relay.onread.callback(n, buf)
    }
  }
  target.flush()
  return { sent: Buffer.concat(sent), delivered: Buffer.concat(target.delivered) }
}

describe('ReadRelay buffers', () => {
  it('never reads into bytes a pending write still holds: small, filling, growing and shrinking reads', () => {
    const ops: RelayOp[] = [{ stall: true }, { read: 0.1 }, { read: 0.1 }, { read: 1 }, { read: 1 }, { read: 0.5 }, { read: 1 }, { read: 1 }, { read: 1 }, { read: 0.001 }, { read: 0.5 }, 'flush', { read: 0.2 }, { stall: false }, { read: 0.3 }, { read: 1 }]
    const { sent, delivered } = runRelay(ops)
    expect(delivered.length).toBe(sent.length)
    expect(delivered.equals(sent)).toBe(true)
  })

  it('property: whatever the reads and stalls, the target gets exactly the bytes read, in order', () => {
    const op = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }).map((read): RelayOp => ({ read })), fc.boolean().map((stall): RelayOp => ({ stall })), fc.constant<RelayOp>('flush'))
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { sent, delivered } = runRelay(ops)
        expect(delivered.equals(sent)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})

describe('the mesh TCP relay', () => {
  it('echoes 8 MiB unchanged and in order through the mesh while both ends read slowly', async () => {
    const port = await meshTo(await echoBackend(512 * 1024, 5))
    const data = bytes(8 * 1024 * 1024, 1)
    const echoed = await echoThrough(port, data, [RELAY_MIN_READ, 1, RELAY_MAX_READ + 7, 65_536], 256 * 1024, 5)
    expect(echoed.length).toBe(data.length)
    expect(digest(echoed)).toBe(digest(data))
  }, 60_000)

  it('a client that reads nothing until the whole path is full still gets every byte unchanged (writes left pending)', async () => {
    const data = bytes(32 * 1024 * 1024, 2)
    let sender: Socket | undefined
    const { port: backendPort } = await listen((s) => {
      sender = s
      s.on('error', () => undefined)
      void writeAll(s, data, [RELAY_MAX_READ])
    })
    const port = await meshTo(backendPort)
    const client = connect({ port, host: '127.0.0.1' })
    cleanups.push(() => void client.destroy())
    client.pause()
    // The backend cannot write on: the mesh stopped reading it, its writes to the client pending.
    await waitFor(() => sender?.writableNeedDrain === true, 'the path to fill up')
    const got = await readAll(client, 0, 0)
    expect(got.length).toBe(data.length)
    expect(digest(got)).toBe(digest(data))
  }, 60_000)

  it('small replies queued behind a stalled client are not overwritten by the next reads', async () => {
    const data = bytes(4 * 1024 * 1024, 3)
    let sent = false
    const { port: backendPort } = await listen((s) => {
      s.on('error', () => undefined)
      void (async () => {
        // One small write per turn of the event loop: the mesh reads each alone, far below its buffer.
        for (let off = 0; off < data.length; off += 1500) {
          if (!s.write(data.subarray(off, off + 1500))) await once(s, 'drain')
          else await new Promise((r) => setImmediate(r))
        }
        s.end()
        sent = true
      })()
    })
    const port = await meshTo(backendPort)
    const client = connect({ port, host: '127.0.0.1' })
    cleanups.push(() => void client.destroy())
    client.pause()
    await waitFor(() => sent, 'the backend to send everything')
    const got = await readAll(client, 0, 0)
    expect(got.length).toBe(data.length)
    expect(digest(got)).toBe(digest(data))
  }, 60_000)

  it('property: any write sizes and reader pauses give the bytes back unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 * 1024 * 1024 }),
        fc.array(fc.integer({ min: 1, max: 2 * RELAY_MAX_READ }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1024, max: 1024 * 1024 }),
        fc.integer({ min: 0, max: 3 }),
        async (size, sizes, pauseEvery, pauseMs) => {
          const port = await meshTo(await echoBackend(pauseEvery, pauseMs))
          const data = bytes(size, size)
          const echoed = await echoThrough(port, data, sizes, pauseEvery, pauseMs)
          expect(echoed.length).toBe(data.length)
          expect(digest(echoed)).toBe(digest(data))
          for (const c of cleanups.splice(0).reverse()) await c()
        },
      ),
      { numRuns: 12 },
    )
  }, 120_000)

  it("passes the backend's FIN to the client while the client's side stays open", async () => {
    const got: Buffer[] = []
    const { port: backendPort } = await listen((s) => {
      s.end('bye')
      s.on('data', (c: Buffer) => got.push(c))
      s.once('end', () => s.destroy())
    })
    const port = await meshTo(backendPort)
    const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    cleanups.push(() => void client.destroy())
    expect((await readAll(client, 0, 0)).toString()).toBe('bye')
    client.end('still here')
    await waitFor(() => Buffer.concat(got).toString() === 'still here', 'the backend to read after its FIN')
  })

  it("passes a client's reset to the backend as a reset", async () => {
    const errors: string[] = []
    const { port: backendPort } = await listen((s) => {
      s.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? ''))
      s.write('hello')
    })
    const port = await meshTo(backendPort)
    const client = connect({ port, host: '127.0.0.1' })
    await once(client, 'data')
    client.resetAndDestroy()
    await waitFor(() => errors.length > 0, 'the backend to see the reset')
    expect(errors).toEqual(['ECONNRESET'])
  })

  it("passes a backend's reset to the client as a reset", async () => {
    const { port: backendPort } = await listen((s) => {
      s.on('data', () => s.resetAndDestroy())
    })
    const port = await meshTo(backendPort)
    const client = connect({ port, host: '127.0.0.1' })
    cleanups.push(() => void client.destroy())
    await once(client, 'connect')
    client.write('x')
    const [err] = (await once(client, 'error')) as [NodeJS.ErrnoException]
    expect(err.code).toBe('ECONNRESET')
  })

  it("relays a source that ignores onread from its 'data' events, FIN included", async () => {
    const data = bytes(1024 * 1024, 4)
    const received: Buffer[] = []
    const { port: sinkPort } = await listen((s) => {
      s.on('data', (c: Buffer) => received.push(c))
      s.once('end', () => s.end())
    })
    const { port: sourcePort } = await listen((s) => void writeAll(s, data, [RELAY_MIN_READ * 3]))
    const source = connect({ port: sourcePort, host: '127.0.0.1', allowHalfOpen: true })
    const target = connect({ port: sinkPort, host: '127.0.0.1', allowHalfOpen: true })
    cleanups.push(() => void source.destroy(), () => void target.destroy())
    await Promise.all([once(source, 'connect'), once(target, 'connect')])
    new ReadRelay().start(source, target)
    target.resume()
    await once(target, 'end')
    expect(digest(Buffer.concat(received))).toBe(digest(data))
  })

  it('re-wraps only a paused accepted socket with a handle: others are left as they are', async () => {
    const onread = { buffer: Buffer.alloc(16), callback: () => true }
    expect(adoptAccepted(new Socket(), onread)).toBeUndefined()
    const accepted: Socket[] = []
    const { port } = await listen((s) => accepted.push(s))
    const client = connect({ port, host: '127.0.0.1' })
    cleanups.push(() => void client.destroy())
    await waitFor(() => accepted.length === 1, 'the connection to be accepted')
    const flowing = accepted[0] as Socket
    cleanups.push(() => void flowing.destroy())
    expect(adoptAccepted(flowing, onread)).toBeUndefined()
  })
})
