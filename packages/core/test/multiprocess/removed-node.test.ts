/**
 * Removing nodes, on 3 managers and 2 workers as separate processes (fake runtime), as SwarmKit
 * does it: a node that is up is refused unless forced, a manager always; a removed node's
 * certificate is refused by every manager for every call (its dispatcher session, logs, renewal);
 * reopened, the node does not come back; a forced removal of a running worker denies it and
 * its tasks are replaced elsewhere.
 */
import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { status } from '@grpc/grpc-js'
import { NodeState, TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { credentials } from '@swarmkit-ts/pki'
import { NodeCertificateStore, renewNodeCertificate, type ControlClient } from '../../src/index.ts'
import { AUTHENTICATED_METHODS, certificateOf, rawCall } from './ops-fixtures.ts'
import { controlOf, ProcessRig, runningByNode, total, until } from './processes.ts'

const web: ServiceSpec = {
  annotations: { name: 'web' },
  mode: { replicated: { replicas: 10 } },
  task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } },
}

/** The dispatcher's and the log broker's methods: what a worker certificate may call until its node is removed. */
const WORKER_METHODS = AUTHENTICATED_METHODS.filter((m) => m.path.startsWith('/swarmkit.core.v1.Dispatcher/') || m.path.startsWith('/swarmkit.core.v1.LogBroker/'))

describe('multi-process node removal (3 managers, 2 workers)', () => {
  const rig = new ProcessRig()

  it('refuses removing a node that is up unless forced; a removed worker’s certificate is refused by every manager and it does not come back; a forced removal of a running worker denies its certificate and its tasks move', async () => {
    const m1 = await rig.init('m1')
    const [m2, m3] = [await rig.join('m2', m1, 'manager'), await rig.join('m3', m1, 'manager')]
    const [w1, w2] = await Promise.all([rig.join('w1', m1, 'worker'), rig.join('w2', m1, 'worker')])
    const managers = [m1, m2, m3]
    const control = controlOf(m3)
    await until(async () => (await control.nodes.list()).filter((n) => n.status.state === NodeState.READY).length === 5, 'five nodes ready')
    const [W1, W2] = [w1.ready.nodeId, w2.ready.nodeId]
    const service = await control.services.create(web)
    await until(async () => total(await runningByNode(control, service.id)) === 10, '10 replicas running')

    // Refused while up (typed, over the control socket), and a manager whatever `force`.
    await expect(control.nodes.remove(W1)).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'node-up' })
    await expect(control.nodes.remove(m2.ready.nodeId, { force: true })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'manager' })

    // w1 stopped cleanly: DOWN once its heartbeat deadline passes; its tasks move to the others.
    expect(await w1.process.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    await until(async () => (await control.nodes.get(W1)).status.state === NodeState.DOWN, 'w1 down')
    const certificate = credentials.forClient(await certificateOf(w1.stateDir), { serverRole: 'manager' })
    // Control: before the removal its certificate is not refused (a heartbeat without a session is another error).
    const heartbeat = WORKER_METHODS.find((m) => m.path.endsWith('/Heartbeat'))
    if (heartbeat === undefined) throw new Error('no Heartbeat method')
    for (const m of managers) expect((await rawCall(m.ready.address, certificate, heartbeat)).code).not.toBe(status.PERMISSION_DENIED)

    await control.nodes.remove(W1)
    expect((await control.nodes.list()).map((n) => n.id)).not.toContain(W1)
    const denied = (await control.getCluster()).blacklistedCertificates ?? {}
    expect(Object.keys(denied)).toEqual([W1])
    expect(denied[W1]?.expiry).toBe(Date.parse(new X509Certificate((await certificateOf(w1.stateDir)).certChainPem).validTo)) // denied until its certificate expires

    // Every manager refuses it, for every call, once the removal has reached that manager's own
    // store (a follower's control socket reads from the leader, so ask its dispatcher instead).
    for (const m of managers) {
      await until(async () => (await rawCall(m.ready.address, certificate, heartbeat)).code === status.PERMISSION_DENIED, `${m.name} refusing w1`)
      const answers = await Promise.all(
        WORKER_METHODS.map(async (method) => {
          const { code, details } = await rawCall(m.ready.address, certificate, method)
          return { path: method.path, code, details }
        }),
      )
      expect(answers).toEqual(WORKER_METHODS.map((method) => ({ path: method.path, code: status.PERMISSION_DENIED, details: `node ${W1} has been removed from the cluster` })))
      const renewal = renewNodeCertificate({ managerAddr: m.ready.address, certificates: new NodeCertificateStore({ stateDir: w1.stateDir }), timeoutMs: 30_000 })
      await expect(renewal).rejects.toMatchObject({ name: 'PermissionDeniedError' })
    }

    // Reopened from its state directory, the removed worker runs but is not a member again.
    const back = await rig.reopen(w1)
    expect([back.ready.nodeId, back.ready.role]).toEqual([W1, 'worker'])
    await assertStaysOut(control, W1, 5)

    // A forced removal of the running w2: its tasks are replaced on the managers, its certificate denied.
    const onW2 = (await runningByNode(control, service.id)).get(W2) ?? 0
    expect(onW2).toBeGreaterThan(0)
    await control.nodes.remove(W2, { force: true })
    await until(async () => {
      const byNode = await runningByNode(control, service.id)
      return total(byNode) === 10 && [...byNode.keys()].every((id) => managers.some((m) => m.ready.nodeId === id))
    }, '10 replicas running on the managers only')
    expect((await control.nodes.list()).map((n) => n.id).sort()).toEqual(managers.map((m) => m.ready.nodeId).sort())
    const w2Certificate = credentials.forClient(await certificateOf(w2.stateDir), { serverRole: 'manager' })
    for (const m of managers) {
      await until(async () => (await rawCall(m.ready.address, w2Certificate, heartbeat)).code === status.PERMISSION_DENIED, `${m.name} refusing w2`)
      const answers = await Promise.all(WORKER_METHODS.map(async (method) => (await rawCall(m.ready.address, w2Certificate, method)).code))
      expect(answers).toEqual(WORKER_METHODS.map(() => status.PERMISSION_DENIED))
    }

    // Both removed workers still close cleanly on SIGTERM (nothing waits on a refused manager).
    expect(await Promise.all([back.process.stop('SIGTERM'), w2.process.stop('SIGTERM')])).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ])
  }, 240_000)
})

/**
 * Checks, `rounds` times one heartbeat period (1 s with FAST_FLAGS) apart, that node `nodeId` is
 * not in the node list: it cannot fail under load, only see less of the node's retries.
 */
async function assertStaysOut(control: ControlClient, nodeId: string, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    expect((await control.nodes.list()).map((n) => n.id)).not.toContain(nodeId)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
  expect((await control.tasks.list({ nodeIds: [nodeId] })).filter((t) => t.desiredState <= TaskState.RUNNING)).toEqual([])
}
