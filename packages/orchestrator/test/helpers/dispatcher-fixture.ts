/**
 * A dispatcher on a store with a ManualClock and a SeededRandom, and readers that collect what
 * its streams yield: the setting of the dispatcher's behaviour tests.
 */
import { NodeAvailability, NodeRole, NodeState, TaskState } from '@swarmkit-ts/api'
import type { AssignmentsMessage, DispatcherApi, Node, SessionMessage, Task, TaskSpec } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Frozen, Recipe } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { Dispatcher } from '../../src/index.ts'
import type { DispatcherConfig, DispatcherHandle } from '../../src/index.ts'
import { advanceTimerByTimer, settleStore } from './harness.ts'

/** Collects what an async iterable yields, in the background. */
export class Reader<T> {
  readonly messages: T[] = []
  error: unknown = undefined
  done = false

  constructor(iterable: AsyncIterable<T>) {
    void this.#run(iterable)
  }

  /** The last message (throws when there is none). */
  get last(): T {
    const m = this.messages[this.messages.length - 1]
    if (m === undefined) throw new Error('no message yet')
    return m
  }

  async #run(iterable: AsyncIterable<T>): Promise<void> {
    try {
      for await (const m of iterable) this.messages.push(m)
    } catch (err) {
      this.error = err
    } finally {
      this.done = true
    }
  }
}

/** A connected node: its api, its session stream and the session id of the first message. */
export interface Connected {
  readonly api: DispatcherApi
  readonly session: Reader<SessionMessage>
  readonly sessionId: string
  readonly abort: AbortController
}

/** Options of {@link DispatcherFixture}. */
export interface DispatcherFixtureInit {
  readonly seed?: number
  readonly config?: DispatcherConfig
  /** Start the dispatcher at once (default true). */
  readonly start?: boolean
}

/** A valid object id for a short test name (lower-case letters and digits, no `x`): padded with `x`. */
export function idOf(name: string): string {
  return name.padEnd(25, 'x')
}

/** The short test name of an id made by {@link idOf}. */
export function nameOf(id: string): string {
  return id.replace(/x+$/, '')
}

/** The description agents send in the tests. */
export const DESCRIPTION = { hostname: 'host', platform: { os: 'linux', architecture: 'x86_64' } }

/** The behaviour-test setting (see the module doc). */
export class DispatcherFixture {
  readonly clock = new ManualClock(1_700_000_000_000)
  readonly random: SeededRandom
  readonly store: MemoryStore
  readonly dispatcher: Dispatcher
  handle: DispatcherHandle | undefined

  constructor(init: DispatcherFixtureInit = {}) {
    this.random = new SeededRandom(init.seed ?? 1)
    this.store = new MemoryStore({ clock: this.clock })
    this.dispatcher = new Dispatcher({
      store: this.store,
      clock: this.clock,
      random: this.random,
      ...(init.config === undefined ? {} : { config: init.config }),
    })
    if (init.start !== false) this.start()
  }

  /** Starts a term. */
  start(): void {
    this.handle = this.dispatcher.start()
  }

  /** Stops the term and settles. */
  async stop(): Promise<void> {
    await this.handle?.stop()
    this.handle = undefined
    await this.settle()
  }

  /** Runs everything that is not waiting for time. */
  settle(): Promise<void> {
    return settleStore(this.store, { clock: this.clock })
  }

  /** Moves time forward by `ms`, timer by timer. */
  advance(ms: number): Promise<void> {
    return advanceTimerByTimer(this.clock, ms, () => this.settle())
  }

  /** Opens a session for `nodeId` and waits for its first message. */
  async connect(nodeId: string, options: { readonly addr?: string; readonly sessionId?: string } = {}): Promise<Connected> {
    const api = this.dispatcher.api(idOf(nodeId), options.addr === undefined ? {} : { addr: options.addr })
    const abort = new AbortController()
    const session = new Reader(
      api.session({ description: DESCRIPTION, ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }) }, { signal: abort.signal }),
    )
    await this.settle()
    const first = session.messages[0]
    if (first === undefined) throw new Error(`no session message for ${nodeId}: ${String(session.error)}`)
    return { api, session, sessionId: first.sessionId, abort }
  }

  /** Moves time forward by `ms` while `c` heartbeats as its answers ask. */
  async keepAlive(c: Connected, ms: number): Promise<void> {
    const end = this.clock.now() + ms
    while (this.clock.now() < end) {
      const { periodMs } = await c.api.heartbeat({ sessionId: c.sessionId })
      await this.advance(Math.min(periodMs, end - this.clock.now()))
    }
  }

  /** Opens the assignments stream of a connected node and settles. */
  async assignments(c: Connected): Promise<Reader<AssignmentsMessage>> {
    const r = new Reader(c.api.assignments({ sessionId: c.sessionId }, { signal: c.abort.signal }))
    await this.settle()
    return r
  }

  /** The node `id` as stored. */
  node(id: string): Frozen<Node> | undefined {
    return this.store.view((tx) => tx.nodes.get(idOf(id)))
  }

  /** The task `id` as stored. */
  task(id: string): Frozen<Task> | undefined {
    return this.store.view((tx) => tx.tasks.get(idOf(id)))
  }

  /** Stores a READY worker `id` (or in `state`). */
  async addNode(id: string, state: Node['status']['state'] = NodeState.READY): Promise<void> {
    await this.store.update((tx) =>
      tx.nodes.create({
        id: idOf(id),
        spec: { annotations: { name: id }, desiredRole: NodeRole.WORKER, membership: 'accepted', availability: NodeAvailability.ACTIVE },
        description: { hostname: id },
        status: { state },
        role: NodeRole.WORKER,
      }),
    )
  }

  /** Stores task `id` on `nodeId` in `state` (ASSIGNED by default). */
  async addTask(id: string, nodeId: string, o: { readonly state?: TaskState; readonly spec?: TaskSpec; readonly desired?: TaskState } = {}): Promise<void> {
    await this.store.update((tx) => tx.tasks.create(task(id, nodeId, o)))
  }

  /** Updates task `id`. */
  async updateTask(id: string, recipe: Recipe<'task'>): Promise<void> {
    await this.store.update((tx) => tx.tasks.update(idOf(id), recipe))
  }

  /** Stores a secret and a config with these ids. */
  async addSecretAndConfig(secretId: string, configId: string): Promise<void> {
    await this.store.update((tx) => {
      tx.secrets.create({ id: idOf(secretId), spec: { annotations: { name: `s-${secretId}` }, data: new Uint8Array([1, 2, 3]) } })
      tx.configs.create({ id: idOf(configId), spec: { annotations: { name: `c-${configId}` }, data: new Uint8Array([4]) } })
    })
  }
}

/** A task `id` on `nodeId` (ASSIGNED, desired RUNNING, a busybox container) unless overridden. */
export function task(id: string, nodeId: string, o: { readonly state?: TaskState; readonly spec?: TaskSpec; readonly desired?: TaskState } = {}): Omit<Task, 'meta'> {
  return {
    id: idOf(id),
    spec: o.spec ?? { container: { image: 'busybox' } },
    serviceId: idOf('svc'),
    slot: 1,
    nodeId: nodeId === '' ? '' : idOf(nodeId),
    annotations: { name: id },
    serviceAnnotations: { name: 'svc' },
    status: { timestamp: 0, state: o.state ?? TaskState.ASSIGNED },
    desiredState: o.desired ?? TaskState.RUNNING,
  }
}

/** A container spec using secret `secretId` and config `configId`. */
export function specUsing(secretId: string, configId?: string): TaskSpec {
  return {
    container: {
      image: 'busybox',
      secrets: [{ secretId: idOf(secretId), secretName: `s-${secretId}`, file: { name: secretId } }],
      ...(configId === undefined ? {} : { configs: [{ configId: idOf(configId), configName: `c-${configId}`, file: { name: configId } }] }),
    },
  }
}

/** The ids in the changes of `m`, as `action kind:id`. */
export function describeChanges(m: AssignmentsMessage): string[] {
  return m.changes.map((c) => {
    const a = c.assignment
    const what = 'task' in a ? `task:${nameOf(a.task.id)}` : 'secret' in a ? `secret:${nameOf(a.secret.id)}` : `config:${nameOf(a.config.id)}`
    return `${c.action} ${what}`
  })
}
