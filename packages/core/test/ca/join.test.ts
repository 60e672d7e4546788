import { X509Certificate } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { Server, ServerCredentials } from '@grpc/grpc-js'
import { afterEach, describe, expect, it } from 'vitest'
import { cryptoRandom, InvalidArgumentError, NotFoundError, PermissionDeniedError, silentLogger, systemClock, UnavailableError } from '@swarmkit-ts/api'
import { generateJoinToken, identityOf, RootCA } from '@swarmkit-ts/pki'
import { CA_SERVICE_NAME, CaClient, caSigner, requestNodeCertificate } from '../../src/ca/index.ts'
import { NodeCertificateStore } from '../../src/certs/index.ts'
import { CaRigs } from './ca-harness.ts'
import { TempDirs } from './fixtures.ts'

const ROOT = `/${CA_SERVICE_NAME}/GetRootCACertificate`
const ISSUE = `/${CA_SERVICE_NAME}/IssueNodeCertificate`

async function caught(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  )
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = new Server()
  const port = await new Promise<number>((resolve, reject) => s.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e))))
  s.forceShutdown()
  return port
}

describe('joining: requestNodeCertificate against the CA service over gRPC + TLS', () => {
  const rigs = new CaRigs()
  const dirs = new TempDirs()
  afterEach(async () => {
    await rigs.cleanup()
    await dirs.cleanup()
  })

  it('a worker token yields a worker certificate under the root, saved with the key 0600, and a Node object with the certificate issued', async () => {
    const m = await rigs.manager()
    const certificates = new NodeCertificateStore({ stateDir: await dirs.make() })
    const got = await requestNodeCertificate({ joinAddr: m.address, token: m.ca.joinTokens.worker, certificates })
    expect(got.identity).toMatchObject({ role: 'worker', clusterId: m.ca.clusterId })
    expect(identityOf(got.material.certChainPem)).toEqual(got.identity)
    expect(m.ca.rootCA.signed(got.material.certChainPem)).toBe(true)
    expect(got.material.trustBundlePem).toBe(m.ca.rootCA.certPem)
    expect((await stat(certificates.paths.key)).mode & 0o777).toBe(0o600)
    expect(await new NodeCertificateStore({ stateDir: certificates.paths.dir.replace(/\/certificates$/, '') }).load()).toEqual(got.material)
    const node = m.store.view((tx) => tx.nodes.get(got.identity.nodeId))
    expect(node).toMatchObject({ role: 'worker', spec: { desiredRole: 'worker', membership: 'accepted', availability: 'active' }, certificate: { role: 'worker', status: { state: 'issued' }, cn: got.identity.nodeId } })
    expect(m.calls).toEqual([ROOT, ISSUE, `/${CA_SERVICE_NAME}/NodeCertificateStatus`])
  })

  it('a manager token yields a manager certificate (OU swarm-manager) and a manager Node object', async () => {
    const m = await rigs.manager()
    const got = await requestNodeCertificate({ joinAddr: m.address, token: m.ca.joinTokens.manager, availability: 'drain' })
    expect(got.identity.role).toBe('manager')
    expect(new X509Certificate(got.material.certChainPem).subject).toContain('OU=swarm-manager')
    expect(m.store.view((tx) => tx.nodes.get(got.identity.nodeId))).toMatchObject({ role: 'manager', spec: { desiredRole: 'manager', availability: 'drain' } })
  })

  it('a token with the right digest but a wrong secret is PermissionDenied naming the token, and no node is created', async () => {
    const m = await rigs.manager()
    const wrong = generateJoinToken(m.ca.rootCA.certPem)
    const err = await caught(requestNodeCertificate({ joinAddr: m.address, token: wrong }))
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect((err as Error).message).toBe('token: invalid join token')
    expect(m.store.view((tx) => tx.nodes.find().length)).toBe(1)
  })

  it("another cluster's token is refused before the CSR is sent: the server only saw GetRootCACertificate", async () => {
    const m = await rigs.manager()
    const other = await RootCA.create()
    const err = await caught(requestNodeCertificate({ joinAddr: m.address, token: generateJoinToken(other.certPem) }))
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect((err as Error).message).toMatch(/^token: the root CA of the manager at 127\.0\.0\.1:\d+ does not match the join token's digest/)
    expect(m.calls).toEqual([ROOT])
    expect(m.store.view((tx) => tx.nodes.find().length)).toBe(1)
  })

  it('a malformed token is InvalidArgumentError naming token, before any call', async () => {
    const m = await rigs.manager()
    const err = await caught(requestNodeCertificate({ joinAddr: m.address, token: 'SWMTKN-1-nope' }))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('token')
    expect(m.calls).toEqual([])
  })

  it('an unreachable manager is UnavailableError', async () => {
    const m = await rigs.manager()
    const port = await closedPort()
    const err = await caught(requestNodeCertificate({ joinAddr: `127.0.0.1:${port}`, token: m.ca.joinTokens.worker, timeoutMs: 20_000 }))
    expect(err).toBeInstanceOf(UnavailableError)
  })

  it('a CSR whose signature does not verify ends in the issuance state failed, with the reason', async () => {
    const m = await rigs.manager()
    const client = new CaClient(m.address, { kind: 'root', rootCaPem: m.ca.rootCA.certPem })
    rigs.add(() => Promise.resolve(client.close()))
    const bogus = '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n'
    const { nodeId } = await client.issueNodeCertificate({ csrPem: bogus, token: m.ca.joinTokens.worker })
    const status = await client.nodeCertificateStatus(nodeId)
    expect(status.state).toBe('failed')
    expect(status.error).toMatch(/csr/)
    expect(status.certificateChainPem).toBeUndefined()
  })

  it('a request without a CSR is InvalidArgumentError naming csr; the status of an unknown node is NotFoundError', async () => {
    const m = await rigs.manager()
    const client = new CaClient(m.address, { kind: 'root', rootCaPem: m.ca.rootCA.certPem })
    rigs.add(() => Promise.resolve(client.close()))
    const err = await caught(client.issueNodeCertificate({ csrPem: '', token: m.ca.joinTokens.worker }))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('csr')
    const missing = await caught(client.nodeCertificateStatus('nosuchnode'))
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing).toMatchObject({ kind: 'node', id: 'nosuchnode' })
  })

  it('a node asked to renew (state rotate) still gets its current certificate from the status call', async () => {
    const m = await rigs.manager()
    const got = await requestNodeCertificate({ joinAddr: m.address, token: m.ca.joinTokens.worker })
    await m.store.update((tx) => {
      tx.nodes.update(got.identity.nodeId, (d) => {
        if (d.certificate !== undefined) d.certificate.status = { state: 'rotate' }
      })
    })
    const client = new CaClient(m.address, { kind: 'root', rootCaPem: m.ca.rootCA.certPem })
    rigs.add(() => Promise.resolve(client.close()))
    const status = await client.nodeCertificateStatus(got.identity.nodeId)
    expect(status).toEqual({ state: 'rotate', role: 'worker', certificateChainPem: got.material.certChainPem, trustBundlePem: m.ca.rootCA.certPem })
  })

  it('a request left pending without a leader is signed by the signer of the next term', async () => {
    const m = await rigs.manager({ signer: false, statusWaitMs: 50 })
    const pending = requestNodeCertificate({ joinAddr: m.address, token: m.ca.joinTokens.worker })
    const client = new CaClient(m.address, { kind: 'root', rootCaPem: m.ca.rootCA.certPem })
    rigs.add(() => Promise.resolve(client.close()))
    const { watch } = m.store.viewAndWatch(() => undefined, { kinds: 'node', actions: ['create'] })
    const created = await watch.next()
    watch.close()
    const nodeId = created.done === true || created.value.action === 'commit' ? '' : created.value.object.id
    expect((await client.nodeCertificateStatus(nodeId)).state).toBe('pending')
    const term = new AbortController()
    const signer = await caSigner().start({ store: m.store, clock: systemClock, random: cryptoRandom, logger: silentLogger, nodeId: m.ca.manager.nodeId, raftId: 1n, signal: term.signal })
    rigs.add(async () => {
      term.abort()
      await signer.stop()
    })
    const got = await pending
    expect(got.identity.nodeId).toBe(nodeId)
  })

  it('a server whose certificate is not from the pinned root is refused before the token is sent', async () => {
    const m = await rigs.manager()
    const other = await RootCA.create()
    const client = new CaClient(m.address, { kind: 'root', rootCaPem: other.certPem })
    rigs.add(() => Promise.resolve(client.close()))
    const err = await caught(client.issueNodeCertificate({ csrPem: 'x', token: m.ca.joinTokens.worker }))
    expect(err).toBeInstanceOf(UnavailableError)
    expect(m.calls).toEqual([])
  })
})

describe('joining through a follower', () => {
  const rigs = new CaRigs()
  afterEach(async () => {
    await rigs.cleanup()
  })

  it("a follower answers the root CA and refuses the write with NotLeader; the joiner follows it to the leader", async () => {
    const leader = await rigs.manager()
    const follower = await rigs.follower(leader)
    const got = await requestNodeCertificate({ joinAddr: follower.address, token: leader.ca.joinTokens.worker })
    expect(got.identity.role).toBe('worker')
    expect(follower.calls).toEqual([ROOT, ISSUE])
    expect(leader.calls).toEqual([ISSUE, `/${CA_SERVICE_NAME}/NodeCertificateStatus`])
    expect(leader.store.view((tx) => tx.nodes.get(got.identity.nodeId)?.certificate?.status.state)).toBe('issued')
  })
})
