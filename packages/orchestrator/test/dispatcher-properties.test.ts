import { NodeState, TaskState } from '@swarmkit-ts/api'
import type { AssignmentsMessage } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ASSIGNMENT_BATCH_WAIT_MS, STATUS_FLUSH_INTERVAL_MS } from '../src/index.ts'
import { DispatcherFixture, idOf, specUsing, task } from './helpers/dispatcher-fixture.ts'
import type { Connected, Reader } from './helpers/dispatcher-fixture.ts'

const NODES = ['n1', 'n2', 'n3']
const REPORTED = [TaskState.ACCEPTED, TaskState.PREPARING, TaskState.RUNNING, TaskState.COMPLETE, TaskState.FAILED]

const op = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('connect' as const), node: fc.constantFrom(...NODES) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('abort' as const), node: fc.constantFrom(...NODES) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('beat' as const) }), weight: 3 },
  // Mostly within a heartbeat period; sometimes long enough for nodes to go DOWN.
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 1, max: 4_000 }), fc.constant(20_000)) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('create' as const), node: fc.constantFrom(...NODES), secret: fc.constantFrom('s1', 's2', undefined) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('shutdown' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('report' as const), pick: fc.nat(), state: fc.constantFrom(...REPORTED) }), weight: 4 },
)

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

/**
 * A run that once failed (the check came before the secret's withdrawal was sent: a status is
 * written 100 ms after it is queued, and the change it causes is sent 100 ms later).
 */
const REGRESSION_STATUS_THEN_WITHDRAWAL: Op[] = [
  { kind: 'advance', ms: 1 },
  { kind: 'create', node: 'n1', secret: 's1' },
  { kind: 'connect', node: 'n1' },
  { kind: 'connect', node: 'n1' },
  { kind: 'create', node: 'n1', secret: 's1' },
  { kind: 'report', pick: 0, state: TaskState.ACCEPTED },
  { kind: 'connect', node: 'n1' },
  { kind: 'report', pick: 0, state: TaskState.FAILED },
  { kind: 'beat' },
  { kind: 'create', node: 'n1', secret: undefined },
]

/** What an agent holds after applying `messages` (from its last `complete`). */
function held(messages: readonly AssignmentsMessage[]): { tasks: Set<string>; secrets: Set<string> } {
  const tasks = new Set<string>()
  const secrets = new Set<string>()
  for (const m of messages) {
    if (m.type === 'complete') {
      tasks.clear()
      secrets.clear()
    }
    for (const c of m.changes) {
      const a = c.assignment
      const set = 'task' in a ? tasks : 'secret' in a ? secrets : undefined
      const id = 'task' in a ? a.task.id : 'secret' in a ? a.secret.id : ''
      if (c.action === 'update') set?.add(id)
      else set?.delete(id)
    }
  }
  return { tasks, secrets }
}

describe('Dispatcher properties', () => {
  it('after any sessions, heartbeats, task changes and reports: streams hold the node’s tasks and their live secrets, connected nodes are READY, states never go back', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 60 }), fc.integer({ min: 1, max: 1_000 }), async (ops, seed) => {
        const f = new DispatcherFixture({ seed })
        await f.addSecretAndConfig('s1', 'c1')
        await f.addSecretAndConfig('s2', 'c2')
        const live = new Map<string, { c: Connected; a: Reader<AssignmentsMessage> }>()
        const highest = new Map<string, TaskState>()
        let n = 0
        const tasks = (): string[] => f.store.view((tx) => tx.tasks.find().map((t) => t.id))
        for (const o of ops) {
          switch (o.kind) {
            case 'connect': {
              const c = await f.connect(o.node).catch(() => undefined)
              if (c !== undefined) live.set(o.node, { c, a: await f.assignments(c) })
              break
            }
            case 'abort':
              live.get(o.node)?.c.abort.abort()
              live.delete(o.node)
              break
            case 'beat':
              for (const { c } of live.values()) await c.api.heartbeat({ sessionId: c.sessionId }).catch(() => undefined)
              break
            case 'advance':
              await f.advance(o.ms)
              break
            case 'create':
              await f.addTask(`t${String(n++)}`, o.node, o.secret === undefined ? {} : { spec: specUsing(o.secret) })
              break
            case 'shutdown':
            case 'delete': {
              const ids = tasks()
              const id = ids[o.pick % Math.max(1, ids.length)]
              if (id === undefined) break
              if (o.kind === 'delete') await f.store.update((tx) => tx.tasks.delete(id))
              else await f.store.update((tx) => tx.tasks.update(id, (d) => void (d.desiredState = TaskState.SHUTDOWN)))
              break
            }
            case 'report': {
              const ids = tasks()
              const id = ids[o.pick % Math.max(1, ids.length)]
              const t = id === undefined ? undefined : f.store.view((tx) => tx.tasks.get(id))
              const node = NODES.find((x) => idOf(x) === t?.nodeId)
              const conn = node === undefined ? undefined : live.get(node)
              if (t === undefined || conn === undefined) break
              await conn.c.api.updateTaskStatus({ sessionId: conn.c.sessionId, updates: [{ taskId: t.id, status: { timestamp: f.clock.now(), state: o.state } }] }).catch(() => undefined)
              break
            }
          }
          for (const t of f.store.view((tx) => tx.tasks.find())) {
            expect(t.status.state).toBeGreaterThanOrEqual(highest.get(t.id) ?? 0)
            highest.set(t.id, t.status.state)
          }
        }
        // Queued statuses are written, then the changes they cause are sent.
        await f.advance(STATUS_FLUSH_INTERVAL_MS + ASSIGNMENT_BATCH_WAIT_MS)
        for (const [node, { a }] of live) {
          if (a.done) continue
          expect(f.node(node)?.status.state).toBe(NodeState.READY)
          const stored = f.store.view((tx) => tx.tasks.find({ nodeId: idOf(node) })).filter((t) => t.status.state >= TaskState.ASSIGNED)
          const h = held(a.messages)
          expect([...h.tasks].sort()).toEqual(stored.map((t) => t.id).sort())
          const secrets = new Set(stored.filter((t) => t.status.state <= TaskState.RUNNING).flatMap((t) => (t.spec.container?.secrets ?? []).map((s) => s.secretId)))
          expect([...h.secrets].sort()).toEqual([...secrets].sort())
        }
        await f.stop()
        expect(f.clock.pending()).toBe(0)
      }),
      { numRuns: 100, examples: [[REGRESSION_STATUS_THEN_WITHDRAWAL, 1]] },
    )
  }, 120_000)

  it('a task created before its node connects is in the complete set', async () => {
    const f = new DispatcherFixture()
    await f.store.update((tx) => tx.tasks.create(task('t1', 'n1')))
    const c = await f.connect('n1')
    const a = await f.assignments(c)
    expect([...held(a.messages).tasks]).toEqual([idOf('t1')])
    await f.stop()
  })
})
