/**
 * A cluster of `kv-node.ts` processes on loopback for the real-process tests: start, find the
 * leader, crash and restart members (telling everyone the new address), wait for convergence.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeProcess } from './node-process.ts'
import type { KvNodeConfig, KvNodeDump, KvNodeStatus, PeerAddress } from './protocol.ts'

/** Options shared by the members. */
export type MemberOptions = Omit<KvNodeConfig, 'id' | 'dir'>

/** Defaults: 50 ms ticks, elections after 10 ticks, no automatic snapshots. */
export const DEFAULT_MEMBER_OPTIONS: MemberOptions = { tickMs: 50, electionTick: 10, snapshotInterval: 0, logEntriesForSlowFollowers: 0 }

/** Polls `probe` until it returns a value other than `undefined`. */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 30_000, everyMs = 100): Promise<T> {
  const end = Date.now() + deadlineMs
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** Members on loopback, each with a data directory under one temporary directory. */
export class ProcessCluster {
  readonly ids: readonly bigint[]
  readonly options: MemberOptions
  /** The current process of each member (possibly dead). */
  readonly procs = new Map<bigint, NodeProcess>()
  /** Every process ever started, to be sure all are killed. */
  readonly #all: NodeProcess[] = []
  #root = ''

  constructor(ids: readonly bigint[], options: Partial<MemberOptions> = {}) {
    this.ids = ids
    this.options = { ...DEFAULT_MEMBER_OPTIONS, ...options }
  }

  /** The temporary directory holding the members' data directories. */
  get root(): string {
    return this.#root
  }

  /** The data directory of member `id`. */
  dir(id: bigint): string {
    return join(this.#root, `member-${id}`)
  }

  /** The current process of `id`. */
  proc(id: bigint): NodeProcess {
    const p = this.procs.get(id)
    if (p === undefined) throw new Error(`member ${id} was never started`)
    return p
  }

  /** The live processes. */
  live(): NodeProcess[] {
    return [...this.procs.values()].filter((p) => p.alive)
  }

  /** Current addresses of every member. */
  addresses(): PeerAddress[] {
    return [...this.procs.values()].map((p) => ({ id: p.config.id, address: p.address }))
  }

  async #spawn(id: bigint): Promise<NodeProcess> {
    const p = await NodeProcess.spawn({ ...this.options, id: id.toString(), dir: this.dir(id) })
    this.#all.push(p)
    this.procs.set(id, p)
    return p
  }

  /** Spawns every member on fresh directories and bootstraps the cluster. */
  async bootstrap(): Promise<void> {
    this.#root = await mkdtemp(join(tmpdir(), 'swarmkit-raft-process-'))
    await Promise.all(this.ids.map((id) => this.#spawn(id)))
    const peers = this.addresses()
    await Promise.all(this.live().map((p) => p.request('bootstrap', { peers })))
  }

  /** Statuses of the live members (a member that does not answer is left out). */
  async statuses(): Promise<KvNodeStatus[]> {
    const all = await Promise.all(this.live().map((p) => p.request('status', {}, 5_000).catch(() => undefined)))
    return all.filter((s): s is KvNodeStatus => s !== undefined)
  }

  /**
   * Waits until one live member is leader and every live member follows it in its term;
   * returns its id.
   */
  async waitLeader(deadlineMs = 30_000): Promise<bigint> {
    return poll('a leader all live members agree on', async () => {
      const sts = await this.statuses()
      const leaders = sts.filter((s) => s.role === 'leader')
      const l = leaders.length === 1 ? leaders[0] : undefined
      if (l === undefined || sts.length !== this.live().length) return undefined
      return sts.every((s) => s.leader === l.id && s.term === l.term) ? BigInt(l.id) : undefined
    }, deadlineMs)
  }

  /** SIGKILLs the current process of `id` and waits for it to exit. */
  async crash(id: bigint): Promise<void> {
    const exit = await this.proc(id).crash()
    if (exit.signal !== 'SIGKILL') throw new Error(`member ${id} exited by itself before the kill: ${JSON.stringify(exit)}\n${this.proc(id).stderr}`)
  }

  /**
   * Starts a new process for `id` on its existing directory. It listens on a new port: every
   * live member is told, and the new process learns the others' addresses before it starts.
   */
  async restart(id: bigint): Promise<NodeProcess> {
    if (this.proc(id).alive) throw new Error(`member ${id} is still running`)
    const p = await this.#spawn(id)
    const peers = this.addresses()
    await Promise.all(this.live().map((q) => q.request('peers', { peers })))
    await p.request('start', {})
    return p
  }

  /**
   * Waits until every member is alive and all have applied the same index with the same log,
   * then returns their dumps (by id).
   */
  async converged(deadlineMs = 30_000): Promise<Map<bigint, KvNodeDump>> {
    return poll('every member to apply the same log', async () => {
      const live = this.live()
      if (live.length !== this.ids.length) throw new Error('a member is down')
      const sts = await this.statuses()
      const first = sts[0]
      if (sts.length !== live.length || first === undefined) return undefined
      if (!sts.every((s) => s.applied === first.applied && s.commit === first.commit && s.applied === s.commit)) return undefined
      const dumps = await Promise.all(live.map(async (p) => [p.id, await p.request('dump', {}, 10_000)] as const))
      // Nothing may have moved between the status and the dump.
      return dumps.every(([, d]) => d.applied === first.applied) ? new Map(dumps) : undefined
    }, deadlineMs, 200)
  }

  /** Kills every process ever started and removes the data. Safe to call twice. */
  async close(): Promise<void> {
    await Promise.all(this.#all.map((p) => p.crash()))
    if (this.#root !== '') await rm(this.#root, { recursive: true, force: true })
  }
}
