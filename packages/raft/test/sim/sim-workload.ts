/**
 * Simulated clients of the key-value store. Each client issues one operation at a time — get
 * (ReadIndex, then a local read), put or compare-and-set (a proposal) — on a random live member,
 * and records it in a history for the linearizability checker. Times are a global logical
 * counter, so the order of events within one virtual millisecond is kept.
 *
 * Outcomes: a returned value; `ProposalDroppedError` (the command never entered the log: the
 * operation is left out); any other failure, a crash of the member or a timeout (the outcome is
 * unknown: the operation stays without return, i.e. indeterminate). A read that does not return
 * is left out (it changes nothing).
 */
import type { RaftMemberId, Timer } from '@swarmkit-ts/api'
import type { KvInput, KvOutput, Operation } from '@swarmkit-ts/testkit'
import { encodeCommand } from './kv-machine.ts'
import type { KvCommand, KvResult } from './kv-machine.ts'
import type { SimMember, SimWorld } from './sim-world.ts'

/** Workload parameters. */
export interface WorkloadInit {
  clients: number
  keys: number
  /** A client gives up on an operation after this long (it becomes indeterminate). */
  opTimeoutMs: number
  /** Pause between a client's operations, drawn in `[0, maxThinkMs]`. */
  maxThinkMs: number
}

interface Pending {
  readonly slot: number
  readonly client: number
  readonly member: RaftMemberId
  done: boolean
  timer: Timer | undefined
  /** Gives up on the operation (indeterminate). */
  abandon: () => void
}

/** Counts of outcomes. */
export interface WorkloadStats {
  ok: number
  notApplied: number
  indeterminate: number
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'unknown'
}

/** The clients and their history. */
export class Workload {
  readonly #world: SimWorld
  readonly #init: WorkloadInit
  /** The history in call order; `undefined` for operations that did not happen. */
  readonly #ops: Array<Operation<KvInput, KvOutput> | undefined> = []
  readonly #pending = new Set<Pending>()
  /** Per client and key, the value last seen (the `expected` of its next compare-and-set). */
  readonly #seen = new Map<string, string | null>()
  #time = 0
  #nextOp = 1
  #running = false
  readonly stats: WorkloadStats = { ok: 0, notApplied: 0, indeterminate: 0 }

  constructor(world: SimWorld, init: WorkloadInit) {
    this.#world = world
    this.#init = init
  }

  /** Starts every client. */
  start(): void {
    this.#running = true
    for (let c = 0; c < this.#init.clients; c++) this.#schedule(c)
  }

  /** No client starts a new operation after this. */
  stop(): void {
    this.#running = false
  }

  /** Operations still waiting for an outcome. */
  get pending(): number {
    return this.#pending.size
  }

  #schedule(client: number): void {
    if (!this.#running) return
    this.#world.clock.setTimeout(() => this.#issue(client), this.#world.random.int(this.#init.maxThinkMs + 1))
  }

  #issue(client: number): void {
    if (!this.#running) return
    const up = this.#world.up()
    if (up.length === 0) {
      this.#schedule(client)
      return
    }
    const m = up[this.#world.random.int(up.length)] as SimMember
    const key = `k${this.#world.random.int(this.#init.keys)}`
    const r = this.#world.random.int(10)
    const value = `v${this.#nextOp}`
    const input: KvInput =
      r < 4 ? { type: 'get', key } : r < 8 ? { type: 'put', key, value } : { type: 'cas', key, expected: this.#seen.get(`${client}/${key}`) ?? null, value }
    void this.submit(m, client, input).then(() => this.#schedule(client))
  }

  /**
   * Runs `input` on `m` as client `client`; resolves with the outcome once it is known (returned,
   * not applied, or indeterminate after a crash or the timeout).
   */
  submit(m: SimMember, client: number, input: KvInput): Promise<'ok' | 'not-applied' | 'indeterminate'> {
    const node = m.node
    const sm = m.sm
    if (node === undefined || sm === undefined) return Promise.resolve('not-applied')
    const slot = this.#ops.length
    this.#ops.push({ clientId: client, input, call: ++this.#time })
    const p: Pending = { slot, client, member: m.id, done: false, timer: undefined, abandon: () => {} }
    this.#pending.add(p)
    return new Promise((resolve) => {
      const finish = (outcome: 'ok' | 'not-applied' | 'indeterminate', output?: KvOutput): void => {
        if (p.done) return
        p.done = true
        p.timer?.cancel()
        this.#pending.delete(p)
        const op = this.#ops[slot] as Operation<KvInput, KvOutput>
        if (outcome === 'ok') {
          this.#ops[slot] = output === undefined ? { ...op, return: ++this.#time } : { ...op, output, return: ++this.#time }
          this.stats.ok++
        } else if (outcome === 'not-applied' || input.type === 'get') {
          this.#ops[slot] = undefined
          this.stats.notApplied++
        } else {
          this.stats.indeterminate++
        }
        this.#world.trace(`client ${client} ${JSON.stringify(input)} on member ${m.id} (call ${op.call}): ${outcome} ${output === undefined ? '' : JSON.stringify(output)}`)
        resolve(outcome)
      }
      p.timer = this.#world.clock.setTimeout(() => finish('indeterminate'), this.#init.opTimeoutMs)
      p.abandon = () => finish('indeterminate')
      const failed = (err: unknown): void => finish(errorName(err) === 'ProposalDroppedError' ? 'not-applied' : 'indeterminate')
      if (input.type === 'get') {
        node.linearizableRead().then(() => {
          const value = sm.get(input.key)
          this.#seen.set(`${client}/${input.key}`, value)
          finish('ok', { type: 'get', value })
        }, failed)
        return
      }
      if (input.type !== 'put' && input.type !== 'cas') throw new Error(`unsupported operation ${input.type}`)
      const cmd: KvCommand = { ...input, op: this.#nextOp++ }
      node.propose(encodeCommand(cmd)).then((res) => {
        const r = res as KvResult
        if (r.type === 'put') this.#seen.set(`${client}/${input.key}`, cmd.value)
        if (r.type === 'cas' && r.ok) this.#seen.set(`${client}/${input.key}`, cmd.value)
        finish('ok', r.type === 'put' ? { type: 'put' } : r.type === 'cas' ? { type: 'cas', ok: r.ok } : undefined)
      }, failed)
    })
  }

  /** `m`'s process died: its pending operations become indeterminate. */
  onCrash(m: SimMember): void {
    for (const p of [...this.#pending]) if (p.member === m.id) p.abandon()
  }

  /** Stops the clients; what is still pending is indeterminate. Returns the history. */
  finish(): Operation<KvInput, KvOutput>[] {
    this.stop()
    for (const p of [...this.#pending]) p.abandon()
    return this.#ops.filter((op): op is Operation<KvInput, KvOutput> => op !== undefined)
  }
}
