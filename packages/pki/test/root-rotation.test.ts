import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '@swarmkit-ts/testkit'
import { createCsr, credentials, generateNodeKey, RootCA, RootRotation, RootRotationReconciler, type RotationNode } from '../src/index.ts'
import { hasOpenssl, issueNode, material, opensslVerify } from './helpers/fixtures.ts'
import { callEcho, startEcho } from './helpers/grpc-harness.ts'

const DAY = 24 * 3_600_000
const YEAR = 365 * DAY

describe('RootRotation', () => {
  it('cross-signs the new root with the old key', async () => {
    const old = await RootCA.create()
    const next = await RootCA.create()
    const rotation = await RootRotation.start(old, next)
    const cross = new X509Certificate(rotation.crossSignedPem)
    expect(cross.subject).toBe('CN=swarm-ca')
    expect(cross.ca).toBe(true)
    expect(old.signed(cross)).toBe(true)
    expect(next.signed(cross)).toBe(false)
    expect(cross.publicKey.export({ type: 'spki', format: 'der' }).equals(next.certificate.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true)
    expect(rotation.trustBundlePem).toBe(old.certPem + next.certPem)
    expect(rotation.signer.intermediatesPem).toBe(rotation.crossSignedPem)
    expect(RootRotation.resume(old, next, rotation.crossSignedPem).crossSignedPem).toBe(rotation.crossSignedPem)
    expect(() => RootRotation.resume(next, old, rotation.crossSignedPem)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'crossSignedPem' }))
  })

  it('refuses a new root without its key, the same root, or one valid for less than a year', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1))
    const old = await RootCA.create({ clock })
    const next = await RootCA.create({ clock })
    await expect(RootRotation.start(old, await RootCA.fromPEM(next.certPem), { clock })).rejects.toMatchObject({ name: 'FailedPreconditionError' })
    await expect(RootRotation.start(old, old, { clock })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'next' })
    const short = await RootCA.create({ clock, validityMs: YEAR - DAY })
    await expect(RootRotation.start(old, short, { clock })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'next' })
    await expect(RootRotation.start(await RootCA.fromPEM(old.certPem), next, { clock })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'ca-cannot-sign' })
  })

  it.runIf(hasOpenssl)('chains from the new root verify against the old root, the new root, or both (openssl)', async () => {
    const old = await RootCA.create()
    const next = await RootCA.create()
    const rotation = await RootRotation.start(old, next)
    const leaf = await issueNode(rotation.signer, 'n1', 'worker')
    expect(leaf.chainPem).toBe(leaf.certPem + rotation.crossSignedPem)
    expect(opensslVerify(old.certPem, leaf.certPem, rotation.crossSignedPem).ok).toBe(true)
    expect(opensslVerify(next.certPem, leaf.certPem).ok).toBe(true)
    expect(opensslVerify(rotation.trustBundlePem, leaf.certPem, rotation.crossSignedPem).ok).toBe(true)
    expect(opensslVerify(old.certPem, leaf.certPem).ok).toBe(false)
    const oldLeaf = await issueNode(old, 'n2', 'worker')
    expect(opensslVerify(rotation.trustBundlePem, oldLeaf.certPem).ok).toBe(true)
  })

  it('over real mTLS: a node that still trusts only the old root accepts a peer with a new-root certificate', async () => {
    const old = await RootCA.create()
    const next = await RootCA.create()
    const rotation = await RootRotation.start(old, next)
    const server = await startEcho(credentials.forServer(material(await issueNode(old, 'm-old', 'manager'), old.certPem)), {})
    try {
      const renewed = await issueNode(rotation.signer, 'm-new', 'manager')
      const r = await callEcho(server.port, credentials.forClient(material(renewed, rotation.trustBundlePem)), 'WhoAmI')
      expect(r).toMatchObject({ ok: true, identity: { nodeId: 'm-new' } })
      // Without the cross-signed certificate in its chain, the same leaf is refused.
      const bare = { ...renewed, chainPem: renewed.certPem }
      expect((await callEcho(server.port, credentials.forClient(material(bare, rotation.trustBundlePem)), 'WhoAmI')).ok).toBe(false)
    } finally {
      await server.close()
    }
  })
})

describe('RootRotationReconciler on a ManualClock', () => {
  it('asks nodes to renew in batches of 30, re-asks laggards, and completes when every node is on the new root', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1))
    const old = await RootCA.create({ clock })
    const next = await RootCA.create({ clock })
    const rotation = await RootRotation.start(old, next, { clock })
    const csr = await createCsr(await generateNodeKey())
    const oldCert = (await old.issue(csr, { nodeId: 'x', role: 'worker', clusterId: 'c', clock })).certPem
    const newCert = (await rotation.signer.issue(csr, { nodeId: 'x', role: 'worker', clusterId: 'c', clock })).certPem
    const nodes = new Map<string, RotationNode>()
    for (let i = 0; i < 70; i++) nodes.set(`n${String(i).padStart(2, '0')}`, { nodeId: `n${String(i).padStart(2, '0')}`, certPem: oldCert })
    nodes.set('nocert', { nodeId: 'nocert' })
    const asked: string[][] = []
    let completed: RootCA | undefined
    const reconciler = new RootRotationReconciler({
      rotation,
      clock,
      listNodes: () => [...nodes.values()],
      requestRenewal: (ids) => asked.push([...ids]),
      onComplete: (root) => (completed = root),
      intervalMs: 1000,
      retryAfterMs: 10_000,
    })
    const renew = (ids: readonly string[], except?: string): void => {
      for (const id of ids) if (id !== except) nodes.set(id, { nodeId: id, certPem: newCert })
    }
    reconciler.start()
    expect(asked).toHaveLength(1)
    expect(asked[0]).toHaveLength(30)
    expect(asked[0]?.[0]).toBe('n00')
    // Nothing renewed yet: the next pass asks no one (30 outstanding).
    clock.advance(1000)
    expect(asked).toHaveLength(1)
    // 29 of the first batch renew; n05 stays silent.
    renew(asked[0] ?? [], 'n05')
    clock.advance(1000)
    expect(asked).toHaveLength(2)
    expect(asked[1]).toHaveLength(29)
    expect(asked[1]?.[0]).toBe('n30')
    renew(asked[1] ?? [])
    clock.advance(1000)
    expect(asked[2]).toEqual(['n59', 'n60', 'n61', 'n62', 'n63', 'n64', 'n65', 'n66', 'n67', 'n68', 'n69', 'nocert'])
    renew(asked[2] ?? [])
    expect(() => rotation.finish(nodes.values())).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'rotation-pending' }))
    // n05 was asked at t0; it is asked again once 10 s have passed.
    clock.advance(5000)
    expect(asked).toHaveLength(3)
    clock.advance(3000)
    expect(asked[3]).toEqual(['n05'])
    expect(completed).toBeUndefined()
    renew(['n05'])
    clock.advance(1000)
    expect(reconciler.done).toBe(true)
    expect(completed?.certPem).toBe(next.certPem)
    expect(completed?.intermediatesPem).toBe('')
    clock.advance(60_000)
    expect(asked).toHaveLength(4)
  })
})
