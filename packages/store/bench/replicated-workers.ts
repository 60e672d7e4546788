/**
 * Replicated store throughput with each of the 3 managers on its own thread (worker_threads in
 * one process, Raft messages over MessagePorts): closer to a deployment, where every manager has
 * its own event loop and core, than `replicated.ts`, where one thread does the work of all three.
 *
 * Run: `pnpm --filter @swarmkit-ts/store bench` (last), or `node scripts/bench-built.mjs packages/store/bench/replicated-workers.ts`
 * (BENCH_SECONDS, BENCH_CALLERS as in replicated.ts). Prints a table; adds its rows to
 * bench-results/store-replicated.json when that file exists.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { MessageChannel, Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { MemoryRaftStorage } from '@swarmkit-ts/raft'
import { runningTask as task } from './fixtures.ts'
import { drive } from './replicated.ts'
import type { Message, RaftTransport, RaftTransportHandlers } from '@swarmkit-ts/raft'
import { createReplicatedStore } from '../src/replication/replicated-store.ts'

const OBJECTS = 1000
const IDS = [1n, 2n, 3n]

interface WorkerInit {
  id: bigint
  ports: Record<string, MessagePort>
}

type Command = { type: 'load'; callers: number; windowMs: number } | { type: 'status' } | { type: 'stop' }


/** A transport over one MessagePort per peer; each send is one postMessage per peer. */
function portTransport(ports: ReadonlyMap<bigint, MessagePort>): RaftTransport {
  return {
    start: (h: RaftTransportHandlers) => {
      for (const port of ports.values()) {
        port.on('message', (batch: Message[]) => {
          for (const m of batch) h.message(m)
        })
      }
      return Promise.resolve()
    },
    send: (msgs) => {
      const byPeer = new Map<bigint, Message[]>()
      for (const m of msgs) {
        const list = byPeer.get(m.to) ?? []
        list.push(m)
        byPeer.set(m.to, list)
      }
      for (const [to, list] of byPeer) ports.get(to)?.postMessage(list)
    },
    addPeer: () => {},
    removePeer: () => {},
    stop: () => {
      for (const port of ports.values()) port.close()
      return Promise.resolve()
    },
  }
}


async function workerMain(init: WorkerInit): Promise<void> {
  const port = parentPort
  if (port === null) throw new Error('not a worker')
  const peers = new Map<bigint, MessagePort>(Object.entries(init.ports).map(([k, v]) => [BigInt(k), v]))
  const member = createReplicatedStore({ raft: { id: init.id, storage: new MemoryRaftStorage(), transport: portTransport(peers), tickMs: 50, maxSizePerMsg: 1024 * 1024 } })
  member.bootstrap(IDS.map((id) => ({ id, address: `manager-${id}` })))
  member.raft.on('node:failed', (e) => process.stderr.write(`worker ${init.id} failed: ${String(e)}\n`))
  await member.start()
  if (init.id === 1n) member.raft.campaign()
  port.on('message', (cmd: Command) => {
    void (async () => {
      switch (cmd.type) {
        case 'load': {
          if (member.store.view((tx) => tx.tasks.get(task(0).id)) === undefined) {
            await member.store.batch((b) => {
              for (let n = 0; n < OBJECTS; n++) b.update((tx) => tx.tasks.create(task(n)))
            })
          }
          await drive(member.store, cmd.callers, Math.min(500, cmd.windowMs))
          const before = member.raft.status().lastIndex
          const r = await drive(member.store, cmd.callers, cmd.windowMs)
          port.postMessage({ ...r, entries: member.raft.status().lastIndex - before, applied: member.raft.applied })
          break
        }
        case 'status':
          port.postMessage({ isLeader: member.isLeader, applied: member.raft.applied, snapshot: Buffer.from(member.store.snapshot()).toString('base64') })
          break
        case 'stop':
          await member.stop()
          port.postMessage({ stopped: true })
          port.close()
          break
      }
    })()
  })
  port.postMessage({ ready: true })
}

function request<T>(w: Worker, cmd: Command | undefined): Promise<T> {
  return new Promise((res) => {
    w.once('message', (m: T) => res(m))
    if (cmd !== undefined) w.postMessage(cmd)
  })
}

/** One row per concurrency: transactions/s acknowledged on the leader, managers on 3 threads. */
export async function runWorkers(callerList: readonly number[], windowMs: number): Promise<{ benchmark: string; callers: number; transactions: number; seconds: number; perSecond: number; entries: number }[]> {
  const rows = []
  for (const callers of callerList) {
    const channels = new Map<string, MessageChannel>()
    for (const a of IDS) for (const b of IDS) if (a < b) channels.set(`${a}-${b}`, new MessageChannel())
    const workers = IDS.map((id) => {
      const ports: Record<string, MessagePort> = {}
      for (const other of IDS) {
        if (other === id) continue
        const ch = channels.get(id < other ? `${id}-${other}` : `${other}-${id}`)
        if (ch === undefined) throw new Error('missing channel')
        ports[other.toString()] = id < other ? ch.port1 : ch.port2
      }
      const init: WorkerInit = { id, ports }
      // A bundle (scripts/bench-built.mjs) is plain JavaScript; from source, each worker registers
      // tsx itself (loader hooks do not reach worker threads on Node 20).
      const self = JSON.stringify(import.meta.url)
      const bundled = import.meta.url.endsWith('.mjs')
      const boot = bundled ? `import(${self})` : `import('tsx/esm/api').then((m) => { m.register(); return import(${self}) })`
      const execArgv = bundled ? [] : ['--conditions=@swarmkit-ts/source']
      return new Worker(boot, { eval: true, workerData: init, transferList: Object.values(ports), execArgv })
    })
    for (const w of workers) w.on('error', (e) => process.stderr.write(`worker error ${String(e)}\n`))
    await Promise.all(workers.map((w) => request(w, undefined)))
    let leader: Worker | undefined
    while (leader === undefined) {
      const st = await Promise.all(workers.map((w) => request<{ isLeader: boolean }>(w, { type: 'status' })))
      leader = workers[st.findIndex((s) => s.isLeader)]
      if (leader === undefined) await new Promise((res) => setTimeout(res, 20))
    }
    const r = await request<{ transactions: number; seconds: number; entries: number; applied: number }>(leader, { type: 'load', callers, windowMs })
    // Wait for the followers to apply everything, and check the stores are identical.
    for (;;) {
      const st = await Promise.all(workers.map((w) => request<{ applied: number; snapshot: string }>(w, { type: 'status' })))
      if (st.every((s) => s.applied >= r.applied)) {
        if (st.some((s) => s.snapshot !== st[0]?.snapshot)) throw new Error('managers diverged')
        break
      }
      await new Promise((res) => setTimeout(res, 20))
    }
    await Promise.all(workers.map((w) => request(w, { type: 'stop' })))
    await Promise.all(workers.map((w) => w.terminate()))
    rows.push({ benchmark: 'ReplicatedStore ×3 on 3 threads (memory storage)', callers, transactions: r.transactions, seconds: r.seconds, perSecond: r.transactions / r.seconds, entries: r.entries })
  }
  return rows
}

async function main(): Promise<void> {
  const windowMs = Number(process.env['BENCH_SECONDS'] ?? 3) * 1000
  const callerList = (process.env['BENCH_CALLERS'] ?? '1,64,256,1024').split(',').map(Number)
  const rows = await runWorkers(callerList, windowMs)
  console.table(rows.map((r) => ({ benchmark: r.benchmark, callers: r.callers, 'tx/s': Math.round(r.perSecond), 'tx/entry': (r.transactions / Math.max(1, r.entries)).toFixed(1) })))
  const file = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bench-results/store-replicated.json')
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as { rows: unknown[]; threadRows?: unknown }
    json.threadRows = rows
    await writeFile(file, `${JSON.stringify(json, null, 2)}\n`)
  } catch {
    // No results file from replicated.ts: print only.
  }
}

if (!isMainThread) await workerMain(workerData as WorkerInit)
else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main()
