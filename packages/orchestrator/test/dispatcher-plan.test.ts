import { TaskState } from '@swarmkit-ts/api'
import type { AssignmentsMessage, Config, Secret, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DeadlineQueue } from '../src/dispatcher/deadline-queue.ts'
import { AssignmentSet, MAX_REREGISTRATIONS, RATE_LIMIT_PERIOD_MS, checkRegistration } from '../src/index.ts'
import type { DependencyLookup, RegistrationRecord } from '../src/index.ts'
import { idOf, specUsing, task } from './helpers/dispatcher-fixture.ts'

const META = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }

function secret(name: string): Frozen<Secret> {
  return { id: idOf(name), meta: META, spec: { annotations: { name }, data: new Uint8Array([1]) } }
}
function config(name: string): Frozen<Config> {
  return { id: idOf(name), meta: META, spec: { annotations: { name }, data: new Uint8Array([2]) } }
}

const LOOKUP: DependencyLookup = {
  secret: (id) => (id.startsWith('s') ? secret(id.replace(/x+$/, '')) : undefined),
  config: (id) => (id.startsWith('c') ? config(id.replace(/x+$/, '')) : undefined),
}

describe('DeadlineQueue', () => {
  it('hands out exactly the keys whose latest deadline passed, earliest first (property against a map)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), at: fc.integer({ min: 0, max: 1_000 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e') }),
      fc.record({ kind: fc.constant('due' as const), now: fc.integer({ min: 0, max: 1_000 }) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new DeadlineQueue()
        const model = new Map<string, { at: number; seq: number }>()
        let seq = 0
        for (const o of ops) {
          if (o.kind === 'set') {
            q.set(o.key, o.at)
            model.set(o.key, { at: o.at, seq: seq++ })
          } else if (o.kind === 'delete') {
            q.delete(o.key)
            model.delete(o.key)
          } else {
            const expected = [...model.entries()].filter(([, v]) => v.at <= o.now).sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq).map(([k]) => k)
            for (const k of expected) model.delete(k)
            expect(q.due(o.now)).toEqual(expected)
          }
          const next = [...model.values()].reduce<number | undefined>((m, v) => (m === undefined || v.at < m ? v.at : m), undefined)
          expect(q.next()).toBe(next)
          expect(q.size).toBe(model.size)
        }
      }),
    )
  })
})

describe('checkRegistration', () => {
  it('allows 3 re-registrations in quick succession, refuses the 4th, and allows again after a quiet window', () => {
    let record: RegistrationRecord | undefined
    const outcomes: boolean[] = []
    for (let i = 0; i <= MAX_REREGISTRATIONS + 1; i++) {
      const d = checkRegistration(record, i * 1_000)
      outcomes.push(d.allowed)
      record = d.record
    }
    expect(outcomes).toEqual([true, true, true, true, false])
    expect(checkRegistration(record, 3_000 + RATE_LIMIT_PERIOD_MS).allowed).toBe(false)
    expect(checkRegistration(record, 3_000 + RATE_LIMIT_PERIOD_MS + 1).allowed).toBe(true)
  })
})

/** What an agent holds after applying the messages in order (checking the chain). */
function replay(messages: readonly AssignmentsMessage[]): { tasks: Map<string, TaskState>; secrets: Set<string>; configs: Set<string> } {
  const tasks = new Map<string, TaskState>()
  const secrets = new Set<string>()
  const configs = new Set<string>()
  let last = ''
  for (const m of messages) {
    expect(m.appliesTo).toBe(m.type === 'complete' ? '' : last)
    last = m.resultsIn
    for (const c of m.changes) {
      const a = c.assignment
      if ('task' in a) {
        if (c.action === 'update') tasks.set(a.task.id, a.task.status.state)
        else tasks.delete(a.task.id)
      } else if ('secret' in a) {
        if (c.action === 'update') secrets.add(a.secret.id)
        else secrets.delete(a.secret.id)
      } else if (c.action === 'update') configs.add(a.config.id)
      else configs.delete(a.config.id)
    }
  }
  return { tasks, secrets, configs }
}

describe('AssignmentSet', () => {
  it('replaying its changes gives the node’s tasks from ASSIGNED on, and exactly the secrets and configs of its tasks that may still run (property)', () => {
    const ids = ['t1', 't2', 't3', 't4']
    const step = fc.oneof(
      fc.record({ kind: fc.constant('advance' as const), id: fc.constantFrom(...ids), by: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.constantFrom(...ids) }),
      fc.record({ kind: fc.constant('send' as const) }),
    )
    const flow = [TaskState.PENDING, TaskState.ASSIGNED, TaskState.ACCEPTED, TaskState.RUNNING, TaskState.COMPLETE, TaskState.SHUTDOWN, TaskState.FAILED]
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('s1', 's2'), fc.constantFrom('c1', 'c2', undefined)), { minLength: 4, maxLength: 4 }),
        fc.array(step, { maxLength: 60 }),
        (deps, steps) => {
          const set = new AssignmentSet()
          const live = new Map<string, { pos: number; task: Frozen<Task> }>()
          ids.forEach((id, i) => {
            const [s, c] = deps[i] ?? ['s1', undefined]
            const t = { ...task(id, 'n1', { state: TaskState.PENDING, spec: specUsing(s, c) }), meta: META } as Frozen<Task>
            live.set(id, { pos: 0, task: t })
            set.addOrUpdateTask(t, LOOKUP)
          })
          const messages: AssignmentsMessage[] = []
          let seq = 0
          const send = (type: 'complete' | 'incremental'): void => {
            messages.push({ type, appliesTo: type === 'complete' ? '' : String(seq), resultsIn: String(seq + 1), changes: set.takeChanges() })
            seq++
          }
          send('complete')
          for (const s of steps) {
            if (s.kind === 'send') send('incremental')
            else if (s.kind === 'delete') {
              const l = live.get(s.id)
              if (l === undefined) continue
              live.delete(s.id)
              set.removeTask(l.task)
            } else {
              const l = live.get(s.id)
              if (l === undefined) continue
              l.pos = Math.min(flow.length - 1, l.pos + s.by)
              const state = flow[l.pos] ?? TaskState.FAILED
              l.task = { ...l.task, status: { timestamp: l.pos, state } }
              set.addOrUpdateTask(l.task, LOOKUP)
            }
          }
          send('incremental')
          const held = replay(messages)
          const expectTasks = [...live.values()].filter((l) => l.task.status.state >= TaskState.ASSIGNED)
          expect([...held.tasks.keys()].sort()).toEqual(expectTasks.map((l) => l.task.id).sort())
          const mayRun = expectTasks.filter((l) => l.task.status.state <= TaskState.RUNNING).map((l) => l.task.spec.container)
          expect([...held.secrets].sort()).toEqual([...new Set(mayRun.flatMap((c) => (c?.secrets ?? []).map((r) => r.secretId)))].sort())
          expect([...held.configs].sort()).toEqual([...new Set(mayRun.flatMap((c) => (c?.configs ?? []).map((r) => r.configId)))].sort())
        },
      ),
    )
  })
})
