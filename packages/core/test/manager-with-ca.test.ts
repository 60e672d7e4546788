/**
 * ManagerNode with part P's CA: a cluster initialized from `bootstrapClusterCA`, the CA service
 * on the manager's NodeServer and its signer as a LeaderComponent; a second manager gets its
 * certificate with the manager join token (no certificate of its own yet), then joins Raft.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { TlsMaterialSource } from '@swarmkit-ts/pki'
import { addCaService, bootstrapClusterCA, caSigner, requestNodeCertificate } from '../src/ca/index.ts'
import { ManagerNode } from '../src/manager/index.ts'
import { FAST_RAFT, cleanupAfterEach, tempDir, until } from './helpers/manager-rig.ts'

const cleanup = cleanupAfterEach()

/** Serves the CA on the manager's server, and closes the manager after the test. */
function withCa(m: ManagerNode): ManagerNode {
  cleanup.push(() => m.close())
  addCaService(m.server.server, { store: m.store })
  return m
}

describe('ManagerNode with the cluster CA', () => {
  it('a manager certified through the CA service with the manager token joins the Raft group', async () => {
    const ca = await bootstrapClusterCA()
    const m1 = withCa(
      await ManagerNode.init({
        stateDir: join(await tempDir(cleanup), 'm1'),
        listenAddress: '127.0.0.1:0',
        tls: new TlsMaterialSource(ca.manager.material),
        raft: FAST_RAFT,
        leaderComponents: [caSigner()],
        rootCa: ca.rootCa,
        nodeCertificate: ca.manager.certificate,
      }),
    )
    const cluster = m1.store.view((tx) => tx.clusters.get(ca.clusterId))
    expect(cluster?.rootCa.joinTokens).toEqual(ca.rootCa.joinTokens)
    expect(m1.store.view((tx) => tx.nodes.get(ca.manager.nodeId)?.certificate)).toEqual(ca.manager.certificate)

    const cert = await requestNodeCertificate({ joinAddr: m1.server.address, token: ca.rootCa.joinTokens.manager, timeoutMs: 30_000 })
    expect(cert.identity.role).toBe('manager')
    expect(cert.identity.clusterId).toBe(ca.clusterId)
    const m2 = withCa(
      await ManagerNode.join({
        stateDir: join(await tempDir(cleanup), 'm2'),
        listenAddress: '127.0.0.1:0',
        tls: new TlsMaterialSource(cert.material),
        raft: FAST_RAFT,
        leaderComponents: [caSigner()],
        joinAddress: m1.server.address,
      }),
    )
    expect(m2.nodeId).toBe(cert.identity.nodeId)
    await until(() => m2.store.view((tx) => tx.nodes.get(m2.nodeId)?.managerStatus?.raftId) === m2.raftId, 'the new manager recorded in its Node on m2')
    expect(m1.members().map((m) => m.nodeId).sort()).toEqual([ca.manager.nodeId, cert.identity.nodeId].sort())
  })
})
