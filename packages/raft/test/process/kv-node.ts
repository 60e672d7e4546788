/**
 * A Raft member as an OS process, for the real-process tests: FileRaftStorage in a directory,
 * RaftNode with a key-value state machine, GrpcRaftTransport on 127.0.0.1 with an OS-chosen port.
 * Run as `node --conditions=@swarmkit-ts/source --import tsx kv-node.ts '<KvNodeConfig JSON>'`
 * from the repository root, and driven over stdin/stdout (see `protocol.ts`).
 *
 * Startup: open the storage (on failure print the error to stderr and exit 2), start the
 * transport, print `{event:'ready', address}`; the harness then sends `peers` and `bootstrap` or
 * `start`. Diagnostics go to stderr; stdout carries only protocol lines.
 */
import { createHash } from 'node:crypto'
import type { LogFields, Logger, RaftMemberId } from '@swarmkit-ts/api'
// The package by name: its source in tests (the @swarmkit-ts/source condition), its build in benchmarks.
import { FileRaftStorage, RaftNode } from '@swarmkit-ts/raft'
import { GrpcRaftTransport } from '@swarmkit-ts/raft/grpc'
import type { Message, RaftTransport, RaftTransportHandlers } from '@swarmkit-ts/raft'
import { KvStateMachine } from './kv-state-machine.ts'
import { readLines } from './line-reader.ts'
import { RuntimeStats } from './runtime-stats.ts'
import type { KvNodeCommands, KvNodeConfig, KvNodeDump, KvNodeEvent, KvNodeRequest, KvNodeResponse, KvNodeStatus, PeerAddress, WireError } from './protocol.ts'

/** Logs warnings and errors to stderr, one JSON line each. */
function stderrLogger(bindings: LogFields): Logger {
  const line = (level: string, message: string, fields?: LogFields): void => {
    process.stderr.write(`${JSON.stringify({ level, message, ...bindings, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`)
  }
  return {
    debug: () => {},
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
    child: (b) => stderrLogger({ ...bindings, ...b }),
  }
}

/**
 * The driver's view of the gRPC transport. The real transport is started before the driver (the
 * harness needs its address to bootstrap), so `start` only records the handlers; and addresses
 * the harness gave win over the ones the driver takes from the log, since a restarted process
 * listens on a new port that the log does not know.
 */
class HarnessTransport implements RaftTransport {
  readonly overrides = new Map<RaftMemberId, string>()
  readonly #inner: GrpcRaftTransport
  #handlers: RaftTransportHandlers | undefined
  constructor(inner: GrpcRaftTransport) {
    this.#inner = inner
  }
  /** Handlers for the real transport: deliver to the driver once it started. */
  readonly forwarding: RaftTransportHandlers = {
    message: (m) => this.#handlers?.message(m),
    unreachable: (to) => this.#handlers?.unreachable?.(to),
    snapshotStatus: (to, ok) => this.#handlers?.snapshotStatus?.(to, ok),
  }
  start(handlers: RaftTransportHandlers): Promise<void> {
    this.#handlers = handlers
    return Promise.resolve()
  }
  send(messages: readonly Message[]): void {
    this.#inner.send(messages)
  }
  addPeer(id: RaftMemberId, address: string): void {
    this.#inner.addPeer(id, this.overrides.get(id) ?? address)
  }
  removePeer(id: RaftMemberId): void {
    this.#inner.removePeer(id)
  }
  stop(): Promise<void> {
    this.#handlers = undefined
    return this.#inner.stop()
  }
}

function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const reason = (err as { reason?: unknown }).reason
    return { name: err.name, message: typeof reason === 'string' ? `${err.message} (${reason})` : err.message }
  }
  return { name: 'Error', message: String(err) }
}

// Lines written in one turn of the event loop go out in one write (one syscall under load).
let outBuffer = ''
function writeLine(msg: KvNodeEvent | KvNodeResponse): void {
  if (outBuffer === '') setImmediate(flushOut)
  outBuffer += `${JSON.stringify(msg)}\n`
}
function flushOut(): void {
  const out = outBuffer
  outBuffer = ''
  if (out !== '') process.stdout.write(out)
}

const enc = new TextEncoder()

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as KvNodeConfig
  const id = BigInt(config.id)
  const logger = stderrLogger({ member: config.id })

  let storage: FileRaftStorage
  try {
    storage = await FileRaftStorage.open(config.dir, { logger, ...(config.segmentBytes === undefined ? {} : { segmentBytes: config.segmentBytes }) })
  } catch (err) {
    const w = toWire(err)
    process.stderr.write(`kv-node: cannot open storage in ${config.dir}: ${w.name}: ${w.message}\n`)
    writeLine({ event: 'failed', error: w })
    process.exitCode = 2
    return
  }

  const runtime = new RuntimeStats()
  storage.sync = runtime.timeSync(storage.sync.bind(storage))

  const grpc = new GrpcRaftTransport({ id, listenAddress: '127.0.0.1:0', logger, backoff: { initialMs: 50, maxMs: 1000 }, shutdownGraceMs: 200 })
  const transport = new HarnessTransport(grpc)
  await grpc.start(transport.forwarding)
  const sm = new KvStateMachine()
  const node = new RaftNode({
    id,
    storage,
    transport,
    stateMachine: sm,
    logger,
    tickMs: config.tickMs,
    electionTick: config.electionTick,
    snapshotInterval: config.snapshotInterval,
    logEntriesForSlowFollowers: config.logEntriesForSlowFollowers,
  })
  node.on('node:failed', (err) => {
    process.stderr.write(`kv-node: the driver failed: ${String(err)}\n`)
    process.exit(3)
  })

  const setPeers = (peers: readonly PeerAddress[]): void => {
    for (const p of peers) {
      const pid = BigInt(p.id)
      if (pid === id) continue
      transport.overrides.set(pid, p.address)
      grpc.addPeer(pid, p.address)
    }
  }

  const storedLog = (): KvNodeDump['log'] => {
    const first = storage.firstIndex()
    const hi = Math.min(node.applied, storage.lastIndex())
    if (hi < first) return []
    return storage.entries(first, hi + 1).map((e) => ({ index: e.index, term: e.term, type: e.type, data: Buffer.from(e.data).toString('base64') }))
  }

  const status = (): KvNodeStatus => {
    const st = node.status()
    const hash = createHash('sha256')
    for (const e of storedLog()) hash.update(`${e.index}|${e.term}|${e.type}|${e.data}\n`)
    return {
      id: config.id,
      leader: node.leader.toString(),
      role: node.role,
      term: st.hardState.term,
      commit: st.hardState.commit,
      applied: node.applied,
      firstIndex: storage.firstIndex(),
      lastIndex: storage.lastIndex(),
      logHash: hash.digest('hex'),
      members: [...node.members].map(([m, address]) => ({ id: m.toString(), address })),
    }
  }

  const handlers: { [C in keyof KvNodeCommands]: (req: Extract<KvNodeRequest, { cmd: C }>) => Promise<KvNodeCommands[C]['result']> } = {
    peers: (req) => {
      setPeers(req.peers)
      return Promise.resolve(null)
    },
    bootstrap: async (req) => {
      setPeers(req.peers)
      node.bootstrap(req.peers.map((p) => ({ id: BigInt(p.id), address: p.address })))
      await node.start()
      return null
    },
    start: async () => {
      await node.start()
      return null
    },
    put: async (req) => {
      const payload = enc.encode(`${req.key}=${req.value}`)
      // Without a timeout (the benchmark) the proposal carries no signal, as an etcd client call without a deadline.
      const value = await (req.timeoutMs === undefined ? node.propose(payload) : node.propose(payload, { signal: AbortSignal.timeout(req.timeoutMs) }))
      return { value: String(value), index: node.applied }
    },
    read: async (req) => {
      await node.linearizableRead({ signal: AbortSignal.timeout(req.timeoutMs) })
      return { value: sm.data.get(req.key) ?? null }
    },
    status: () => Promise.resolve(status()),
    dump: () =>
      Promise.resolve({
        applied: node.applied,
        kv: [...sm.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        log: storedLog(),
        appliedEntries: sm.applied,
      }),
    stats: () => Promise.resolve(runtime.take()),
    stop: async () => {
      await node.stop()
      await storage.close()
      return null
    },
  }

  const serve = async (req: KvNodeRequest): Promise<void> => {
    try {
      const handler = handlers[req.cmd] as (r: KvNodeRequest) => Promise<unknown>
      const result = await handler(req)
      if (req.cmd === 'stop') {
        flushOut()
        process.stdout.write(`${JSON.stringify({ seq: req.seq, ok: true, result })}\n`, () => process.exit(0))
        return
      }
      writeLine({ seq: req.seq, ok: true, result })
    } catch (err) {
      writeLine({ seq: req.seq, ok: false, error: toWire(err) })
    }
  }

  readLines(
    process.stdin,
    (line) => {
      if (line.trim() === '') return
      void serve(JSON.parse(line) as KvNodeRequest)
    },
    // The harness went away: do not linger as an orphan.
    () => process.exit(0),
  )

  writeLine({ event: 'ready', address: grpc.address, firstIndex: storage.firstIndex(), lastIndex: storage.lastIndex() })
}

main().catch((err: unknown) => {
  process.stderr.write(`kv-node: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
