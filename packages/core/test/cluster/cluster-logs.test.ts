/**
 * Service logs through `services.logs` (from workers through the leader's broker, asked on a
 * follower), events, node handles, and one cluster on the real `process` runtime.
 */
import { describe, expect, it } from 'vitest'
import { NotFoundError, TaskState, UnavailableError } from '@swarmkit-ts/api'
import type { LogMessage } from '../../src/logs/index.ts'
import { ClusterRig, guard, sleeper, until } from './rig.ts'

const rig = new ClusterRig()

/**
 * The lines of `lines`, or none while a node running selected tasks has no publisher connected
 * yet (the stream then ends with UnavailableError naming it: wait and ask again).
 */
async function settled(lines: AsyncIterable<LogMessage>): Promise<LogMessage[]> {
  return collect(lines).catch((err: unknown) => {
    if (err instanceof UnavailableError) return []
    throw err
  })
}

async function collect(lines: AsyncIterable<LogMessage>, stop?: (m: LogMessage[]) => boolean): Promise<LogMessage[]> {
  const out: LogMessage[] = []
  for await (const m of lines) {
    out.push(m)
    if (stop?.(out) === true) break
  }
  return out
}

describe('Cluster logs, events and nodes', () => {
  it("services.logs on a follower returns every task's lines from the workers; tail and follow work", async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const w1 = await rig.joinWorker(m1)
    const web = await m2.services.create(sleeper('web', 3))
    await m2.services.waitConverged('web', { signal: guard() })
    const tasks = (await m2.tasks.list({ serviceIds: [web.id] })).filter((t) => t.desiredState === TaskState.RUNNING)
    await until(async () => (await settled(m2.services.logs('web', { signal: guard() }))).length === 3, 'every task printed its line')

    const lines = await collect(m2.services.logs('web', { signal: guard() }))
    expect(lines.map((l) => l.taskId).sort()).toEqual(tasks.map((t) => t.id).sort())
    expect(lines.every((l) => l.serviceId === web.id && l.stream === 'stdout' && l.line.startsWith('hello from'))).toBe(true)
    expect(new Set(lines.map((l) => l.nodeId)).has(w1.nodeId)).toBe(tasks.some((t) => t.nodeId === w1.nodeId))

    expect(await collect(m1.services.logs(web.id, { tail: 0, signal: guard() }))).toEqual([])
    const ctrl = new AbortController()
    const followed = await collect(m1.services.logs('web', { follow: true, signal: AbortSignal.any([ctrl.signal, guard()]) }), (m) => m.length === 3)
    ctrl.abort()
    expect(followed.map((l) => l.taskId).sort()).toEqual(tasks.map((t) => t.id).sort())
  })

  it('emits typed service, task and node events; nodes handles change availability and labels, and a drained node is emptied', async () => {
    const m1 = await rig.init()
    const events: string[] = []
    m1.on('service', (e) => events.push(`service ${e.action} ${e.object.spec.annotations.name}`))
    m1.on('task', (e) => {
      if (e.action === 'create') events.push('task create')
    })
    m1.on('node', (e) => {
      if (e.action === 'update' && e.object.spec.availability === 'drain') events.push('node drained')
    })
    const w1 = await rig.joinWorker(m1)
    const web = await m1.services.create(sleeper('web', 4))
    await m1.services.waitConverged(web.id, { signal: guard() })
    await until(() => events.filter((e) => e === 'task create').length >= 4, 'four task events')
    expect(events[0]).toBe('service create web')

    const labelled = await m1.nodes.setLabels(w1.nodeId, { zone: 'b' })
    expect(labelled.spec.annotations.labels).toEqual({ zone: 'b' })
    const drained = await m1.nodes.setAvailability(w1.nodeId, 'drain')
    expect(drained.spec.availability).toBe('drain')
    await until(() => events.includes('node drained'), 'the node event')
    await until(async () => (await m1.tasks.list({ serviceIds: [web.id], nodeIds: [w1.nodeId], desiredStates: [TaskState.RUNNING] })).length === 0, 'the drained worker emptied')
    expect(await m1.services.waitConverged(web.id, { signal: guard() })).toMatchObject({ desired: 4, running: 4, converged: true })
    await expect(m1.nodes.setAvailability(w1.nodeId, 'gone' as 'drain')).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'availability' })
    await expect(m1.nodes.remove(w1.nodeId)).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'node-up' })
    await expect(m1.nodes.demote(m1.nodeId)).rejects.toMatchObject({ name: 'FailedPreconditionError' })
  })

  it("runs a service on the real 'process' runtime and reads its output through services.logs", async () => {
    const m1 = await rig.init({ runtime: 'process' })
    const svc = await m1.services.create({
      annotations: { name: 'echo' },
      mode: { replicated: { replicas: 1 } },
      task: { container: { image: 'busybox', command: ['sh', '-c', 'echo hello-process; exec sleep 3600'] } },
    })
    await m1.services.waitConverged(svc.id, { signal: guard() })
    await until(async () => (await settled(m1.services.logs('echo', { signal: guard() }))).some((l) => l.line === 'hello-process'), 'the process printed its line')
    await m1.services.remove(svc.id)
    await until(async () => (await m1.worker.runtime?.list())?.every((c) => c.state !== 'running') === true, 'the process stopped')
  })
  it('watch through a follower yields the leader\'s changes; a worker removed with force loses its session and its certificate is denied', async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const w1 = await rig.joinWorker(m1)
    await until(() => w1.connected, 'the worker connected')
    const ctrl = new AbortController()
    const seen: string[] = []
    const watching = (async () => {
      for await (const ev of m2.watch({ kinds: ['service'], actions: ['create'] }, { signal: AbortSignal.any([ctrl.signal, guard()]) })) {
        if (ev.action === 'create' && ev.kind === 'service') seen.push(ev.object.spec.annotations.name)
        if (seen.length === 2) return
      }
    })()
    await until(async () => {
      await m1.services.create(sleeper(`s${seen.length}-${Date.now()}`, 0)).catch(() => undefined)
      return seen.length === 2
    }, 'two service creations watched', 30_000)
    await watching
    expect(seen.every((name) => name.startsWith('s'))).toBe(true)

    await m1.nodes.remove(w1.nodeId, { force: true })
    await expect(m1.nodes.get(w1.nodeId)).rejects.toBeInstanceOf(NotFoundError)
    await until(() => !w1.connected, 'the removed worker disconnected')
    expect((await m2.getCluster()).blacklistedCertificates?.[w1.nodeId]).toBeDefined()
  })
})
