import { credentials as grpcCredentials } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '@swarmkit-ts/testkit'
import { CertificateDenyList, credentials, RootCA, TlsMaterialSource } from '../src/index.ts'
import { issueNode, material, type IssuedNode } from './helpers/fixtures.ts'
import { callEcho, startEcho, status, type Harness } from './helpers/grpc-harness.ts'

const HOUR = 3_600_000

describe('mutual TLS between a real grpc-js server and client', () => {
  let ca: RootCA
  let manager: IssuedNode
  let worker: IssuedNode
  let server: Harness
  const denyList = new CertificateDenyList()

  beforeAll(async () => {
    ca = await RootCA.create()
    manager = await issueNode(ca, 'mgr1', 'manager', 'c1')
    worker = await issueNode(ca, 'wrk1', 'worker', 'c1')
    server = await startEcho(credentials.forServer(material(manager, ca.certPem)), { clusterId: 'c1', denyList })
  })
  afterAll(async () => {
    await server.close()
  })

  it('a manager certificate may call a manager-only method; the server sees its identity', async () => {
    const r = await callEcho(server.port, credentials.forClient(material(manager, ca.certPem), { clusterId: 'c1' }), 'ManagerOnly')
    expect(r).toEqual({ ok: true, identity: { nodeId: 'mgr1', role: 'manager', clusterId: 'c1', spiffeId: 'spiffe://c1/swarm-manager/mgr1' } })
  })

  it('a worker certificate may call WhoAmI but gets PermissionDenied on a manager-only method', async () => {
    const creds = credentials.forClient(material(worker, ca.certPem))
    const ok = await callEcho(server.port, creds, 'WhoAmI')
    expect(ok).toEqual({ ok: true, identity: { nodeId: 'wrk1', role: 'worker', clusterId: 'c1', spiffeId: 'spiffe://c1/swarm-worker/wrk1' } })
    const denied = await callEcho(server.port, credentials.forClient(material(worker, ca.certPem)), 'ManagerOnly')
    expect(denied.ok).toBe(false)
    if (denied.ok) return
    expect(denied.code).toBe(status.PERMISSION_DENIED)
    expect(denied.error).toMatchObject({ name: 'PermissionDeniedError', role: 'worker' })
  })

  it('a client without a certificate is refused at the handshake', async () => {
    const r = await callEcho(server.port, grpcCredentials.createSsl(Buffer.from(ca.certPem)), 'WhoAmI')
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.code).toBe(status.UNAVAILABLE)
  })

  it('a certificate from another CA is refused', async () => {
    const other = await RootCA.create()
    const intruder = await issueNode(other, 'mgr9', 'manager', 'c1')
    const r = await callEcho(server.port, credentials.forClient(material(intruder, ca.certPem)), 'WhoAmI')
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.code).toBe(status.UNAVAILABLE)
  })

  it('an expired certificate is refused', async () => {
    const past = new ManualClock(Date.now() - 3 * HOUR)
    const expired = await issueNode(ca, 'mgr2', 'manager', 'c1', { ttlMs: HOUR, clock: past })
    expect(expired.notAfter).toBeLessThan(Date.now())
    const r = await callEcho(server.port, credentials.forClient(material(expired, ca.certPem)), 'WhoAmI')
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.code).toBe(status.UNAVAILABLE)
  })

  it('a certificate for another cluster is refused by authorize', async () => {
    const foreign = await issueNode(ca, 'mgr3', 'manager', 'c2')
    const r = await callEcho(server.port, credentials.forClient(material(foreign, ca.certPem)), 'WhoAmI')
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.code).toBe(status.PERMISSION_DENIED)
      expect(r.error).toMatchObject({ name: 'PermissionDeniedError', role: 'manager' })
    }
  })

  it("a removed node's certificate is refused (deny list)", async () => {
    const gone = await issueNode(ca, 'wrk2', 'worker', 'c1')
    expect((await callEcho(server.port, credentials.forClient(material(gone, ca.certPem)), 'WhoAmI')).ok).toBe(true)
    denyList.add('wrk2', gone.notAfter)
    const r = await callEcho(server.port, credentials.forClient(material(gone, ca.certPem)), 'WhoAmI')
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.code).toBe(status.PERMISSION_DENIED)
      expect(r.details).toBe('node wrk2 has been removed from the cluster')
    }
  })

  it('the client refuses a server whose certificate does not have the expected role or cluster', async () => {
    const ws = await startEcho(credentials.forServer(material(worker, ca.certPem)), { clusterId: 'c1' })
    try {
      const r = await callEcho(ws.port, credentials.forClient(material(manager, ca.certPem)), 'WhoAmI')
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.code).toBe(status.UNAVAILABLE)
      // Dialled as a worker (the role the server has), the same server is accepted.
      const ok = await callEcho(ws.port, credentials.forClient(material(manager, ca.certPem), { serverRole: 'worker' }), 'WhoAmI', 'worker')
      expect(ok.ok).toBe(true)
      const wrongCluster = await callEcho(ws.port, credentials.forClient(material(manager, ca.certPem), { serverRole: 'worker', clusterId: 'other' }), 'WhoAmI', 'worker')
      expect(wrongCluster.ok).toBe(false)
    } finally {
      await ws.close()
    }
  })
})

describe('TlsMaterialSource: credentials follow renewals without a restart', () => {
  it('a server picks up a new trust bundle and certificate', async () => {
    const ca1 = await RootCA.create()
    const ca2 = await RootCA.create()
    const m1 = await issueNode(ca1, 'mgr1', 'manager', 'c1')
    const source = new TlsMaterialSource(material(m1, ca1.certPem))
    const server = await startEcho(credentials.forServer(source), { clusterId: 'c1' })
    try {
      const client2 = await issueNode(ca2, 'mgr2', 'manager', 'c1')
      const c1 = await issueNode(ca1, 'mgr3', 'manager', 'c1')
      expect((await callEcho(server.port, credentials.forClient(material(c1, ca1.certPem)), 'WhoAmI')).ok).toBe(true)
      expect((await callEcho(server.port, credentials.forClient(material(client2, ca1.certPem + ca2.certPem)), 'WhoAmI')).ok).toBe(false)
      // The server now trusts both roots and presents a certificate from the new one.
      const m2 = await issueNode(ca2, 'mgr1', 'manager', 'c1')
      source.update(material(m2, ca1.certPem + ca2.certPem))
      expect((await callEcho(server.port, credentials.forClient(material(client2, ca2.certPem)), 'WhoAmI')).ok).toBe(true)
      // A client that still trusts only the old root now refuses the server's new certificate.
      expect((await callEcho(server.port, credentials.forClient(material(c1, ca1.certPem)), 'WhoAmI')).ok).toBe(false)
      // Client credentials can follow a source too.
      const clientSource = new TlsMaterialSource(material(c1, ca1.certPem))
      expect((await callEcho(server.port, credentials.forClient(clientSource), 'WhoAmI')).ok).toBe(false)
      clientSource.update(material(c1, ca1.certPem + ca2.certPem))
      expect((await callEcho(server.port, credentials.forClient(clientSource), 'WhoAmI')).ok).toBe(true)
    } finally {
      await server.close()
    }
  })
})
