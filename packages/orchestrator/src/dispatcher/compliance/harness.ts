/**
 * What the dispatcher binding compliance suite is given (the target of one test) and the small
 * driver its tests share: time passing (virtual or real), waiting for a condition, reading a
 * stream, and the store fixtures (nodes' tasks and the secrets they use).
 */
import { sleep, systemClock, TaskState } from '@swarmkit-ts/api'
import type { DispatcherApi, Secret, SessionMessage, Task } from '@swarmkit-ts/api'
import type { MemoryStore } from '@swarmkit-ts/store'
import { afterEach, beforeEach, describe, it } from 'vitest'

/** One running dispatcher with the binding under test, made fresh for each test. */
export interface DispatcherBindingTarget {
  /** The `DispatcherApi` of node `nodeId`, as the binding under test carries it. */
  api(nodeId: string): DispatcherApi
  /** The store the dispatcher runs on (the suite writes tasks and secrets, and reads results). */
  readonly store: MemoryStore
  /**
   * Moves time forward by `ms` and lets what was due run (with a `ManualClock`: advance it, timer
   * by timer, letting promise callbacks settle). Omitted: the suite waits `ms` of real time.
   */
  advance?(ms: number): Promise<void>
  /** Stops the dispatcher as a lost leadership does (its handle's `stop()`); the binding stays up. */
  stop(): Promise<void>
  /** Releases everything; called after each test (also after `stop()`). */
  close(): Promise<void>
}

/** Makes the target of one test. */
export type DispatcherBindingFactory = () => DispatcherBindingTarget | Promise<DispatcherBindingTarget>

/** Options of the suite. */
export interface DispatcherComplianceOptions {
  /** The heartbeat period the dispatcher was configured with. @default 5000 */
  readonly heartbeatPeriodMs?: number
  /** Per-test time limit in ms (real time). @default 20000 */
  readonly testTimeoutMs?: number
}

/** One check of the suite: the body of one test, run on a fresh target. */
export type Check = (h: Harness) => Promise<void>
/** Checks by test name. */
export type Checks = Readonly<Record<string, Check>>

/** Registers one vitest test per check, in a `describe` block titled `title`. */
export function registerChecks(h: Harness, title: string, checks: Checks): void {
  describe(title, () => {
    for (const [name, check] of Object.entries(checks)) it(name, () => check(h))
  })
}

/** Time the suite lets pass between two looks at a condition. */
const STEP_MS = 10
/** How long (on the target's clock) the suite waits for a condition before failing. */
const GIVE_UP_MS = 10_000

/** Lets pending promise and I/O callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** The per-test state shared by the sections. */
export class Harness {
  readonly heartbeatPeriodMs: number
  #target: DispatcherBindingTarget | undefined
  #seq = 0

  constructor(factory: DispatcherBindingFactory, options: DispatcherComplianceOptions) {
    this.heartbeatPeriodMs = options.heartbeatPeriodMs ?? 5_000
    beforeEach(async () => {
      this.#target = await factory()
    })
    afterEach(async () => {
      const target = this.#target
      this.#target = undefined
      await target?.close()
    })
  }

  get target(): DispatcherBindingTarget {
    if (this.#target === undefined) throw new Error('dispatcher compliance: the factory did not run')
    return this.#target
  }

  /** The store of the current target. */
  get store(): MemoryStore {
    return this.target.store
  }

  /** A fresh 25-character id starting with `prefix`. */
  id(prefix: string): string {
    const n = String(++this.#seq)
    return `${prefix}${'0'.repeat(25 - prefix.length - n.length)}${n}`
  }

  /** Lets `ms` pass on the target's clock. */
  async pass(ms: number): Promise<void> {
    const target = this.target
    if (target.advance !== undefined) await target.advance(ms)
    else await sleep(systemClock, ms)
    await flush()
  }

  /** Waits (letting time pass) until `probe` returns something other than `undefined`. */
  async until<T>(what: string, probe: () => T | undefined): Promise<T> {
    for (let waited = 0; ; waited += STEP_MS) {
      await flush()
      const value = probe()
      if (value !== undefined) return value
      if (waited >= GIVE_UP_MS) throw new Error(`dispatcher compliance: ${what} did not happen within ${GIVE_UP_MS} ms`)
      await this.pass(STEP_MS)
    }
  }

  /** Settles `promise`, letting time pass while it is pending; its rejection is returned as `{ error }`. */
  async settle<T>(what: string, promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
    let outcome: { value: T } | { error: unknown } | undefined
    promise.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    )
    return this.until(what, () => outcome)
  }

  /** The next value of a stream (failing if it ends or errs). */
  async next<M>(what: string, it: AsyncIterator<M>): Promise<M> {
    const r = await this.settle(what, it.next())
    if ('error' in r) throw r.error
    if (r.value.done === true) throw new Error(`dispatcher compliance: ${what}: the stream ended`)
    return r.value.value
  }

  /**
   * How a stream ends from here: `{ error }` or `{ done }`. Messages still queued before the end
   * are read and skipped (a stream may carry an update sent just before it ended).
   */
  async end<M>(what: string, it: AsyncIterator<M>): Promise<{ done: true } | { error: unknown }> {
    for (let skipped = 0; skipped < 100; skipped++) {
      const r = await this.settle(what, it.next())
      if ('error' in r) return r
      if (r.value.done === true) return { done: true }
    }
    throw new Error(`dispatcher compliance: ${what}: expected the end, got 100 more messages`)
  }

  /** The rejection of `promise` (failing if it resolves). */
  async rejection(what: string, promise: Promise<unknown>): Promise<unknown> {
    const r = await this.settle(what, promise)
    if (!('error' in r)) throw new Error(`dispatcher compliance: ${what} resolved, expected an error`)
    return r.error
  }

  /** Registers `nodeId`: its session stream and the first session message. */
  async register(nodeId: string, hostname = 'worker'): Promise<{ sessionId: string; first: SessionMessage; stream: AsyncIterator<SessionMessage> }> {
    const stream = this.target.api(nodeId).session({ description: { hostname } })[Symbol.asyncIterator]()
    const first = await this.next(`the first session message of ${nodeId}`, stream)
    return { sessionId: first.sessionId, first, stream }
  }

  /** Writes a secret and returns it as stored. */
  async createSecret(name: string): Promise<Secret> {
    const id = this.id('sec')
    await this.store.update((tx) => tx.secrets.create({ id, spec: { annotations: { name }, data: new TextEncoder().encode(`${name}-data`) } }))
    const secret = this.store.view((tx) => tx.secrets.get(id))
    if (secret === undefined) throw new Error('dispatcher compliance: the secret was not stored')
    return secret
  }

  /** Writes a task ASSIGNED to `nodeId` (desired RUNNING), using `secrets`, and returns it as stored. */
  async createTask(nodeId: string, options: { secrets?: readonly Secret[]; state?: TaskState } = {}): Promise<Task> {
    const id = this.id('tsk')
    const secrets = (options.secrets ?? []).map((s) => ({ secretId: s.id, secretName: s.spec.annotations.name, file: { name: s.spec.annotations.name } }))
    const task: Omit<Task, 'meta'> = {
      id,
      spec: { container: { image: 'busybox', command: ['sleep', '1000'], ...(secrets.length === 0 ? {} : { secrets }) } },
      serviceId: 'svc0000000000000000000001',
      slot: this.#seq,
      nodeId,
      annotations: { name: `web.${this.#seq}` },
      serviceAnnotations: { name: 'web' },
      status: { timestamp: 1, state: options.state ?? TaskState.ASSIGNED, message: 'scheduler assigned task to node' },
      desiredState: TaskState.RUNNING,
    }
    await this.store.update((tx) => tx.tasks.create(task))
    return this.task(id)
  }

  /** The stored task `id`. */
  task(id: string): Task {
    const task = this.store.view((tx) => tx.tasks.get(id))
    if (task === undefined) throw new Error(`dispatcher compliance: task ${id} is not stored`)
    return task
  }
}
