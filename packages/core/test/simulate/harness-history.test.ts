/**
 * Control tests of the harness's history checks: the services model accepts legal histories and
 * refuses stale reads, lost writes and refusals of writes that took effect; the recorder tells a
 * definite refusal from an unknown outcome; the acknowledged-writes check finds a lost write.
 */
import { NotFoundError, UnavailableError } from '@swarmkit-ts/api'
import type { Service } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Frozen } from '@swarmkit-ts/store'
import { checkLinearizability, type Operation } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { ClusterHistory, HARNESS_TOKEN_LABEL } from '../../src/simulate/harness/history.ts'
import { checkAcknowledgedWrites, checkHistoryLinearizable } from '../../src/simulate/harness/history-checks.ts'
import { serviceModel } from '../../src/simulate/harness/service-model.ts'
import type { ServiceOpInput, ServiceOpOutput, ServiceValue } from '../../src/simulate/harness/service-model.ts'

type Op = Operation<ServiceOpInput, ServiceOpOutput>
const v = (token: string, replicas: number | null = 1, rollbackOnFailure = false): ServiceValue => ({ token, replicas, rollbackOnFailure })
let clock = 0
function op(input: ServiceOpInput, output?: ServiceOpOutput, returned = true): Op {
  const call = clock++
  return { clientId: 0, input, call, ...(returned ? { return: clock++, ...(output === undefined ? {} : { output }) } : {}) }
}
const ok = (value?: ServiceValue): ServiceOpOutput => (value === undefined ? { ok: true } : { ok: true, value })
const linearizable = (ops: Op[]): boolean | 'unknown' => checkLinearizability(serviceModel, ops).ok

describe('the services model', () => {
  it('accepts a sequential history of writes and reads, and refuses a stale read', () => {
    const history = [
      op({ type: 'create', name: 's1', value: v('a') }, ok()),
      op({ type: 'get', name: 's1' }, ok(v('a'))),
      op({ type: 'update', name: 's1', value: v('b') }, ok()),
      op({ type: 'scale', name: 's1', replicas: 3 }, ok()),
      op({ type: 'get', name: 's1' }, ok(v('b', 3))),
      op({ type: 'rollback', name: 's1' }, ok()),
      op({ type: 'get', name: 's1' }, ok(v('b', 1))),
      op({ type: 'remove', name: 's1' }, ok()),
      op({ type: 'get', name: 's1' }, { ok: false, error: 'not-found' }),
    ]
    expect(linearizable(history)).toBe(true)
    const stale = [...history.slice(0, 3), op({ type: 'get', name: 's1' }, ok(v('a')))]
    expect(linearizable(stale)).toBe(false)
  })

  it('lets a read see an automatic rollback only when the update rolls back on failure', () => {
    const rolled = (rollbackOnFailure: boolean): Op[] => [
      op({ type: 'create', name: 's1', value: v('a') }, ok()),
      op({ type: 'update', name: 's1', value: v('b', 1, rollbackOnFailure) }, ok()),
      op({ type: 'get', name: 's1' }, ok(v('a'))),
      op({ type: 'rollback', name: 's1' }, { ok: false, error: 'failed-precondition' }),
    ]
    expect(linearizable(rolled(true))).toBe(true)
    expect(linearizable(rolled(false))).toBe(false)
  })

  it('places an unanswered write anywhere after its call, and refuses a refusal of a write that took effect', () => {
    const pending = [op({ type: 'create', name: 's1', value: v('a') }, undefined, false), op({ type: 'get', name: 's1' }, { ok: false, error: 'not-found' }), op({ type: 'get', name: 's1' }, ok(v('a')))]
    expect(linearizable(pending)).toBe(true)
    const refusedButDone = [op({ type: 'create', name: 's1', value: v('a') }, { ok: false, error: 'already-exists' })]
    expect(linearizable(refusedButDone)).toBe(false)
    const scaleGlobal = [op({ type: 'create', name: 'g', value: v('a', null) }, ok()), op({ type: 'scale', name: 'g', replicas: 2 }, { ok: false, error: 'failed-precondition' })]
    expect(linearizable(scaleGlobal)).toBe(true)
  })
})

function stored(name: string, token: string, index: bigint): Frozen<Service> {
  return {
    id: name.padEnd(25, '0'),
    meta: { version: { index }, createdAt: 0, updatedAt: 0 },
    spec: { annotations: { name, labels: { [HARNESS_TOKEN_LABEL]: token } }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox:fake' } } },
  }
}

describe('the history recorder and its checks', () => {
  it('records a refusal with its output and an unavailable call as unanswered, never rejecting', async () => {
    let now = 10
    const history = new ClusterHistory(() => now++)
    expect(await history.service({ type: 'create', name: 's1', value: v('a') }, () => Promise.resolve(stored('s1', 'a', 4n)))).toEqual(stored('s1', 'a', 4n))
    expect(await history.service({ type: 'get', name: 's2' }, () => Promise.reject(new NotFoundError('service', 's2')))).toBe(undefined)
    expect(await history.service({ type: 'remove', name: 's1' }, () => Promise.reject(new UnavailableError('no leader')))).toBe(undefined)
    expect(history.serviceCalls).toEqual([
      { operation: { clientId: 0, input: { type: 'create', name: 's1', value: v('a') }, call: 10, output: { ok: true }, return: 11 }, version: 4n },
      { operation: { clientId: 0, input: { type: 'get', name: 's2' }, call: 12, output: { ok: false, error: 'not-found' }, return: 13 } },
      { operation: { clientId: 0, input: { type: 'remove', name: 's1' }, call: 14 } },
    ])
    expect(checkHistoryLinearizable(history)).toEqual([])
  })

  it('finds an acknowledged write the store lost, and accepts one a removal may have undone', async () => {
    const history = new ClusterHistory(() => 0)
    await history.service({ type: 'create', name: 's1', value: v('a') }, () => Promise.resolve(stored('s1', 'a', 2n)))
    await history.service({ type: 'create', name: 's2', value: v('b') }, () => Promise.resolve(stored('s2', 'b', 3n)))
    await history.service({ type: 'update', name: 's2', value: v('c') }, () => Promise.resolve(stored('s2', 'c', 5n)))
    const store = new MemoryStore({ version: 3n })
    await store.update((tx) => tx.services.create(stored('s2', 'b', 0n)))
    expect(checkAcknowledgedWrites(store, history).map((x) => x.message)).toEqual([
      'service s1: its acknowledged create (version 2) is lost — the service is gone',
      'service s2: its acknowledged update wrote version 5, the store has 4',
      'the store is at version 4, below the acknowledged version 5',
    ])
    await history.service({ type: 'remove', name: 's1' }, () => Promise.reject(new UnavailableError('no leader')))
    expect(checkAcknowledgedWrites(store, history).map((x) => x.message)).toEqual([
      'service s2: its acknowledged update wrote version 5, the store has 4',
      'the store is at version 4, below the acknowledged version 5',
    ])
  })

  it('accepts an acknowledged write undone by a removal called before it but still running', async () => {
    let now = 0
    const history = new ClusterHistory(() => now++)
    let release: () => void = () => undefined
    const removal = history.service({ type: 'remove', name: 's1' }, () => new Promise<void>((resolve) => (release = resolve)))
    await history.service({ type: 'update', name: 's1', value: v('b') }, () => Promise.resolve(stored('s1', 'b', 5n)))
    release()
    await removal
    const store = new MemoryStore({ version: 6n })
    expect(checkAcknowledgedWrites(store, history)).toEqual([])
    const finished = new ClusterHistory(() => now++)
    await finished.service({ type: 'remove', name: 's1' }, () => Promise.resolve())
    await finished.service({ type: 'update', name: 's1', value: v('b') }, () => Promise.resolve(stored('s1', 'b', 5n)))
    expect(checkAcknowledgedWrites(store, finished).map((x) => x.message)).toEqual(['service s1: its acknowledged update (version 5) is lost — the service is gone'])
  })

  it('accepts either of two concurrent availability writes, and only the later of two sequential ones', async () => {
    const node = (availability: 'active' | 'pause' | 'drain') => ({
      id: 'n1'.padEnd(25, '0'),
      meta: { version: { index: 0n }, createdAt: 0, updatedAt: 0 },
      spec: { annotations: { name: 'n1' }, desiredRole: 'worker' as const, membership: 'accepted' as const, availability },
      status: { state: 'ready' as const },
      role: 'worker' as const,
    })
    const store = new MemoryStore()
    await store.update((tx) => tx.nodes.create(node('active')))
    let now = 0
    const concurrent = new ClusterHistory(() => now++)
    const answer = { meta: { version: { index: 1n } } }
    const first = concurrent.availability(node('active').id, 'pause', () => Promise.resolve(answer))
    const second = concurrent.availability(node('active').id, 'active', () => Promise.resolve(answer))
    await Promise.all([first, second])
    expect(checkAcknowledgedWrites(store, concurrent)).toEqual([])
    const sequential = new ClusterHistory(() => now++)
    await sequential.availability(node('active').id, 'active', () => Promise.resolve(answer))
    await sequential.availability(node('active').id, 'drain', () => Promise.resolve(answer))
    expect(checkAcknowledgedWrites(store, sequential).map((x) => x.message)).toEqual([`node ${node('active').id}: acknowledged availability drain, the store has active`])
  })
})
