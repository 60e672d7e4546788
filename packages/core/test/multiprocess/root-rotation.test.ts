/**
 * Root CA rotation with a worker down, nodes as separate processes (3 managers, 2 workers): the
 * rotation, started through the control API (`caConfig.forceRotate`), renews every node that is
 * up but, as SwarmKit's reconciler, waits for the down one; the worker comes back with its old
 * certificate (trusted through the cross-signed intermediate), renews under the new root, and the
 * rotation completes. The worker's task processes run throughout and are adopted after the restart.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { IssuanceState, NodeState, TaskState } from '@swarmkit-ts/api'
import type { Node, ServiceSpec } from '@swarmkit-ts/api'
import { NODE_CERT_FILE, ROOT_CA_FILE } from '../../src/index.ts'
import { alive, controlOf, ProcessRig, taskPids, until, type TestNode } from './processes.ts'
import { signedBy } from './t-fixtures.ts'

const pinned: ServiceSpec = {
  annotations: { name: 'pinned' },
  mode: { replicated: { replicas: 2 } },
  task: { container: { image: 'busybox', command: ['sh', '-c', 'exec sleep 3600'] }, placement: { constraints: ['node.hostname == w2'] } },
}

/** The certificate a node's Node object records (what the CA issued it last). */
function certOf(n: Node): Uint8Array {
  const cert = n.certificate?.certificate
  if (cert === undefined || cert.length === 0) throw new Error(`node ${n.id} holds no certificate`)
  return cert
}

/** The certificate a node keeps on disk (its leaf first). */
const certOnDisk = (n: TestNode): Promise<string> => readFile(join(n.stateDir, 'certificates', NODE_CERT_FILE), 'utf8')

describe('multi-process root CA rotation with a worker down', () => {
  const rig = new ProcessRig()

  it('renews every node that is up, waits for the down worker, which returns on its old certificate, renews, and completes the rotation; its tasks keep running', async () => {
    // A 20 s heartbeat: the killed worker is DOWN only after 60 s, longer than the rotation of the others.
    const m1 = await rig.init('m1', ['--heartbeat-period-ms', '20000'])
    const m2 = await rig.join('m2', m1, 'manager')
    const m3 = await rig.join('m3', m1, 'manager')
    const [w1, w2] = await Promise.all([rig.join('w1', m1, 'worker'), rig.join('w2', m1, 'worker', ['--runtime', 'process'])])
    const all = [m1, m2, m3, w1, w2]
    const control = controlOf(m1)
    await until(async () => (await control.nodes.list()).filter((n) => n.status.state === NodeState.READY).length === 5, 'five nodes ready')

    const service = await control.services.create(pinned)
    const runningOnW2 = async (): Promise<string[]> => {
      const tasks = await control.tasks.list({ serviceIds: [service.id] })
      return tasks.filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING && t.nodeId === w2.ready.nodeId).map((t) => t.id).sort()
    }
    await until(async () => (await runningOnW2()).length === 2, 'two tasks running on w2')
    const tasks = await runningOnW2()
    const pids = await taskPids(w2.stateDir)
    expect(pids.size).toBe(2)

    await rig.kill(w2)
    const before = await control.getCluster()
    const oldRoot = before.rootCa.caCert
    const updated = await control.updateCluster({ ...before.spec, caConfig: { ...before.spec.caConfig, forceRotate: 1 } }, { version: before.meta.version.index })
    expect(updated.rootCa.lastForcedRotation).toBe(1)
    const newRoot = updated.rootCa.rootRotation?.caCert
    if (newRoot === undefined) throw new Error('forceRotate started no rotation')
    expect(signedBy(newRoot, newRoot)).toBe(true)
    expect(signedBy(newRoot, oldRoot)).toBe(false)

    // Every node that is up renews under the new root; the down worker holds the rotation back.
    const up = [m1, m2, m3, w1]
    await until(async () => {
      const nodes = await control.nodes.list()
      return up.every((t) => {
        const n = nodes.find((x) => x.id === t.ready.nodeId)
        return n !== undefined && signedBy(certOf(n), newRoot)
      })
    }, 'the four nodes that are up renewed under the new root', 120_000)
    for (const t of up) await until(async () => signedBy(await certOnDisk(t), newRoot), `${t.name} keeps its new certificate on disk`)
    const w2Node = await control.nodes.get(w2.ready.nodeId)
    expect(signedBy(certOf(w2Node), oldRoot)).toBe(true)
    expect(w2Node.certificate?.status.state).toBe(IssuanceState.ROTATE)
    expect(w2Node.status.state).not.toBe(NodeState.DOWN)
    const during = await control.getCluster()
    expect([Buffer.from(during.rootCa.caCert).equals(Buffer.from(oldRoot)), during.rootCa.rootRotation !== undefined]).toEqual([true, true])
    expect(signedBy(await certOnDisk(w2), oldRoot)).toBe(true)

    // The worker returns on its old certificate, renews under the new root, and the rotation completes.
    const back = await rig.reopen(w2, ['--runtime', 'process'])
    expect([back.ready.nodeId, back.ready.role]).toEqual([w2.ready.nodeId, 'worker'])
    await until(async () => {
      const c = await control.getCluster()
      return c.rootCa.rootRotation === undefined && Buffer.from(c.rootCa.caCert).equals(Buffer.from(newRoot))
    }, 'the rotation completed: the new root replaced the old', 120_000)
    const nodes = await control.nodes.list()
    expect(nodes.map((n) => n.id).sort()).toEqual(all.map((t) => t.ready.nodeId).sort())
    expect(nodes.map((n) => [n.id, signedBy(certOf(n), newRoot), signedBy(certOf(n), oldRoot)])).toEqual(nodes.map((n) => [n.id, true, false]))
    for (const t of all) {
      await until(async () => signedBy(await certOnDisk(t), newRoot), `${t.name} keeps a new-root certificate on disk`)
      await until(async () => (await readFile(join(t.stateDir, 'certificates', ROOT_CA_FILE), 'utf8')) === Buffer.from(newRoot).toString('utf8'), `${t.name} trusts the new root only`)
    }
    const after = await control.getCluster()
    expect(after.rootCa.joinTokens.worker).not.toBe(before.rootCa.joinTokens.worker)
    // The completed rotation is remembered: an update that keeps forceRotate starts none.
    expect(after.rootCa.lastForcedRotation).toBe(1)
    const kept = await control.updateCluster(after.spec, { version: after.meta.version.index })
    expect([kept.rootCa.rootRotation, Buffer.from(kept.rootCa.caCert).equals(Buffer.from(newRoot))]).toEqual([undefined, true])

    // The worker's tasks ran throughout: same tasks, same processes, none added.
    await until(async () => (await control.nodes.get(w2.ready.nodeId)).status.state === NodeState.READY, 'w2 ready again')
    await until(async () => (await runningOnW2()).length === 2, 'two tasks running on w2 after its restart')
    expect(await runningOnW2()).toEqual(tasks)
    expect(await control.tasks.list({ serviceIds: [service.id] })).toHaveLength(2)
    expect(await taskPids(w2.stateDir)).toEqual(pids)
    expect([...pids.values()].map(alive)).toEqual([true, true])
  }, 240_000)
})
