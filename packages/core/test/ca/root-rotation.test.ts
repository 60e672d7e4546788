import { afterEach, describe, expect, it } from 'vitest'
import { cryptoRandom, FailedPreconditionError, silentLogger, systemClock } from '@swarmkit-ts/api'
import { joinTokenDigest, parseJoinToken } from '@swarmkit-ts/pki'
import type { MemoryStore, ReadTx } from '@swarmkit-ts/store'
import { pemText, renewNodeCertificate, requestNodeCertificate, rootRotationReconciler, startRootRotation, trustBundleOf } from '../../src/ca/index.ts'
import { NodeCertificateStore } from '../../src/certs/index.ts'
import { CaRigs } from './ca-harness.ts'
import { TempDirs } from './fixtures.ts'

/** Resolves once `pred` holds on the store (checked now and after every commit); the guard only turns a hang into a failure. */
async function until(store: MemoryStore, pred: (tx: ReadTx) => boolean, what: string): Promise<void> {
  const guard = AbortSignal.timeout(20_000)
  const { result, watch } = store.viewAndWatch(pred, { actions: ['commit'] }, { signal: guard })
  if (result) {
    watch.close()
    return
  }
  for await (const ev of watch) {
    void ev
    if (store.view(pred)) {
      watch.close()
      return
    }
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('root CA rotation', () => {
  const rigs = new CaRigs()
  const dirs = new TempDirs()
  afterEach(async () => {
    await rigs.cleanup()
    await dirs.cleanup()
  })

  it('with a worker down, the rotation waits for it; once it renews, the new root replaces the old and the join tokens follow it', async () => {
    const m = await rigs.manager()
    const nodes = await Promise.all(
      ['a', 'b'].map(async () => {
        const certificates = new NodeCertificateStore({ stateDir: await dirs.make() })
        const got = await requestNodeCertificate({ joinAddr: m.address, token: m.ca.joinTokens.worker, certificates })
        return { certificates, nodeId: got.identity.nodeId }
      }),
    )
    const managerCerts = new NodeCertificateStore({ stateDir: await dirs.make() })
    await managerCerts.save(m.ca.manager.material)
    const term = new AbortController()
    const handle = await rootRotationReconciler({ intervalMs: 20 }).start({ store: m.store, clock: systemClock, random: cryptoRandom, logger: silentLogger, nodeId: m.ca.manager.nodeId, raftId: 1n, signal: term.signal })
    rigs.add(async () => {
      term.abort()
      await handle.stop()
    })

    const next = await startRootRotation(m.store)
    const oldRoot = m.ca.rootCA.certPem
    expect(m.store.view((tx) => trustBundleOf(tx.clusters.get(m.ca.clusterId) ?? fail()))).toBe(oldRoot + next.certPem)
    await expect(startRootRotation(m.store)).rejects.toBeInstanceOf(FailedPreconditionError)
    const everyone = [m.ca.manager.nodeId, ...nodes.map((n) => n.nodeId)]
    await until(m.store, (tx) => everyone.every((id) => tx.nodes.get(id)?.certificate?.status.state === 'rotate'), 'every node marked rotate')

    // The manager and worker a renew; worker b is down.
    const [a, b] = nodes as [(typeof nodes)[number], (typeof nodes)[number]]
    const renewedManager = await renewNodeCertificate({ managerAddr: m.address, certificates: managerCerts })
    m.tls.update(renewedManager.material)
    const renewedA = await renewNodeCertificate({ managerAddr: m.address, certificates: a.certificates })
    expect(next.signed(renewedA.material.certChainPem)).toBe(true)
    expect(renewedA.material.trustBundlePem).toBe(oldRoot + next.certPem)
    expect(m.store.view((tx) => tx.clusters.get(m.ca.clusterId)?.rootCa.rootRotation)).toBeDefined()

    // Worker b comes back, still trusting only the old root, and renews.
    expect(b.certificates.current?.trustBundlePem).toBe(oldRoot)
    const renewedB = await renewNodeCertificate({ managerAddr: m.address, certificates: b.certificates })
    expect(next.signed(renewedB.material.certChainPem)).toBe(true)
    await until(m.store, (tx) => tx.clusters.get(m.ca.clusterId)?.rootCa.rootRotation === undefined, 'the rotation to complete')

    const cluster = m.store.view((tx) => tx.clusters.get(m.ca.clusterId) ?? fail())
    expect(pemText(cluster.rootCa.caCert)).toBe(next.certPem)
    expect(parseJoinToken(cluster.rootCa.joinTokens.worker).digest).toBe(joinTokenDigest(next.certPem))
    expect(parseJoinToken(cluster.rootCa.joinTokens.worker).secret).toBe(parseJoinToken(m.ca.joinTokens.worker).secret)

    // A node joining now pins the new root through the new token.
    const late = await requestNodeCertificate({ joinAddr: m.address, token: cluster.rootCa.joinTokens.worker })
    expect(next.signed(late.material.certChainPem)).toBe(true)
    expect(late.material.trustBundlePem).toBe(next.certPem)
  })
})

function fail(): never {
  throw new Error('missing cluster object')
}
