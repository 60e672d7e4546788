/**
 * LeaderTerms on a local MemoryStore and a ManualClock: the leader's loops start on an election
 * win and stop on its loss, in order, serialized, and a failing component never blocks a term.
 */
import { describe, expect, it } from 'vitest'
import { silentLogger } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import type { LeaderComponent } from '../src/manager/index.ts'
import { LeaderTerms, READY_RETRY_MS } from '../src/manager/leader-terms.ts'

const NODE = 'leadertermsnode0000000001'
const WORKER = 'leadertermsworker00000001'
const CLUSTER = 'leadertermscluster0000001'

function rig(components: LeaderComponent[], ready?: () => Promise<boolean>): { terms: LeaderTerms; store: MemoryStore; clock: ManualClock } {
  const clock = new ManualClock(1_000_000)
  const store = new MemoryStore({ clock })
  const terms = new LeaderTerms({ store, clock, random: new SeededRandom(7), logger: silentLogger, nodeId: NODE, raftId: 1n, components, ...(ready === undefined ? {} : { ready }) })
  return { terms, store, clock }
}

/** A component logging `start <name> <term>` and `stop <name>`, and whether the signal was aborted at stop. */
function recording(name: string, log: string[]): LeaderComponent {
  let term = 0
  return {
    name,
    start: (ctx) => {
      term++
      log.push(`start ${name} ${term}`)
      return { stop: () => (log.push(`stop ${name} aborted=${String(ctx.signal.aborted)}`), Promise.resolve()) }
    },
  }
}

describe('LeaderTerms', () => {
  it('starts the components in order on a win and stops them in reverse on a loss, with the signal aborted first', async () => {
    const log: string[] = []
    const { terms } = rig([recording('a', log), recording('b', log)])
    terms.setLeader(true)
    await terms.settled()
    expect(terms.running).toBe(true)
    expect(terms.dispatcher?.running).toBe(true)
    terms.setLeader(false)
    await terms.settled()
    expect(terms.running).toBe(false)
    expect(terms.dispatcher).toBeUndefined()
    terms.setLeader(true)
    await terms.settled()
    await terms.close()
    expect(log).toEqual(['start a 1', 'start b 1', 'stop b aborted=true', 'stop a aborted=true', 'start a 2', 'start b 2', 'stop b aborted=true', 'stop a aborted=true'])
    expect(terms.termsStarted).toBe(2)
  })

  it('bootstraps the ingress network in the first term (the network allocator runs)', async () => {
    const { terms, store } = rig([])
    terms.setLeader(true)
    await terms.settled()
    await until(() => store.view((tx) => tx.networks.find().some((n) => n.spec.annotations.name === 'ingress')))
    await terms.close()
  })

  it("each term's dispatcher takes its heartbeat period from the cluster spec", async () => {
    const { terms, store } = rig([])
    await store.update((tx) =>
      tx.clusters.create({ id: CLUSTER, spec: { annotations: { name: 'default' }, dispatcher: { heartbeatPeriodMs: 20_000 } }, rootCa: { caCert: new Uint8Array([1]), caCertHash: 'h', joinTokens: { worker: 'w', manager: 'm' } } }),
    )
    terms.setLeader(true)
    await terms.settled()
    const api = terms.dispatcher?.api(WORKER)
    if (api === undefined) throw new Error('no dispatcher')
    const abort = new AbortController()
    const session = api.session({ description: { hostname: 'w1' } }, { signal: abort.signal })[Symbol.asyncIterator]()
    const first = await session.next()
    if (first.done === true) throw new Error('session ended')
    const { periodMs } = await api.heartbeat({ sessionId: first.value.sessionId })
    expect(Math.abs(periodMs - 20_000)).toBeLessThanOrEqual(500)
    abort.abort()
    await session.return?.()
    await terms.close()
  })

  it('skips a component whose start throws, and still runs the others', async () => {
    const log: string[] = []
    const broken: LeaderComponent = { name: 'broken', start: () => Promise.reject(new Error('no')) }
    const { terms } = rig([broken, recording('ok', log)])
    terms.setLeader(true)
    await terms.settled()
    expect(log).toEqual(['start ok 1'])
    await terms.close()
    expect(log).toEqual(['start ok 1', 'stop ok aborted=true'])
  })

  it('a win and a loss in quick succession leave nothing running', async () => {
    const log: string[] = []
    const { terms } = rig([recording('a', log)])
    terms.setLeader(true)
    terms.setLeader(false)
    await terms.settled()
    expect(terms.running).toBe(false)
    expect(log.filter((l) => l.startsWith('start')).length).toBe(log.filter((l) => l.startsWith('stop')).length)
    await terms.close()
  })

  it('retries a failed catch-up read while still leader, and gives up once leadership is lost', async () => {
    const log: string[] = []
    let answers = [false, false, true]
    const reads: number[] = []
    const { terms, clock } = rig([recording('a', log)], () => {
      reads.push(clock.now())
      const ok = answers.shift() ?? true
      return ok ? Promise.resolve(true) : Promise.reject(new Error('leadership unsure'))
    })
    terms.setLeader(true)
    await until(() => reads.length === 1)
    clock.advance(READY_RETRY_MS)
    await until(() => reads.length === 2)
    clock.advance(READY_RETRY_MS)
    await terms.settled()
    expect(reads).toEqual([1_000_000, 1_000_000 + READY_RETRY_MS, 1_000_000 + 2 * READY_RETRY_MS])
    expect(log).toEqual(['start a 1'])

    terms.setLeader(false)
    await terms.settled()
    answers = [false]
    terms.setLeader(true)
    await until(() => reads.length === 4)
    terms.setLeader(false)
    clock.advance(READY_RETRY_MS)
    await terms.settled()
    expect(reads).toHaveLength(4)
    expect(log).toEqual(['start a 1', 'stop a aborted=true'])
    await terms.close()
  })
})

/** Lets promises settle until `cond` holds (no timers: a bounded number of macrotask turns). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((resolve) => setImmediate(resolve))
  if (!cond()) throw new Error('condition never held')
}
