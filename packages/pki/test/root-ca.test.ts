import 'reflect-metadata'
import { X509Certificate, createPrivateKey, createPublicKey, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '@swarmkit-ts/testkit'
import { createCsr, generateNodeKey, identityOf, loadNodeKey, RootCA } from '../src/index.ts'
import { hasOpenssl, issueNode, opensslVerify } from './helpers/fixtures.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.UTC(2026, 0, 1)

describe('RootCA.create', () => {
  it('makes a self-signed ECDSA P-256 CA, CN swarm-ca, valid 20 years (backdated one hour)', async () => {
    const ca = await RootCA.create({ clock: new ManualClock(T0) })
    const c = new X509Certificate(ca.certPem)
    expect(c.subject).toBe('CN=swarm-ca')
    expect(c.issuer).toBe('CN=swarm-ca')
    expect(c.ca).toBe(true)
    expect(c.publicKey.asymmetricKeyType).toBe('ec')
    expect(c.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(new Date(c.validFrom).getTime()).toBe(T0 - HOUR)
    expect(new Date(c.validTo).getTime()).toBe(T0 + 630_720_000_000)
    expect(c.verify(c.publicKey)).toBe(true)
    expect(ca.canSign).toBe(true)
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(ca.digest).toMatch(/^[0-9a-f]{64}$/)
  })

  it('round-trips through PEM, with and without the key', async () => {
    const ca = await RootCA.create()
    const loaded = await RootCA.fromPEM(ca.certPem, ca.keyPem)
    expect(loaded.certPem).toBe(ca.certPem)
    expect(loaded.canSign).toBe(true)
    const node = await issueNode(loaded, 'n1', 'worker')
    expect(ca.signed(node.certPem)).toBe(true)
    const verifyOnly = await RootCA.fromPEM(ca.certPem)
    expect(verifyOnly.canSign).toBe(false)
    await expect(verifyOnly.issue(await createCsr(await generateNodeKey()), { nodeId: 'n', role: 'worker', clusterId: 'c' })).rejects.toMatchObject({
      name: 'FailedPreconditionError',
      reason: 'ca-cannot-sign',
    })
  })

  it('refuses a key that does not match, a non-CA certificate and garbage', async () => {
    const ca = await RootCA.create()
    const other = await generateNodeKey()
    await expect(RootCA.fromPEM(ca.certPem, other.keyPem)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'keyPem' })
    await expect(RootCA.fromPEM(ca.certPem, 'nope')).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'keyPem' })
    const leaf = await issueNode(ca, 'n1', 'worker')
    await expect(RootCA.fromPEM(leaf.certPem)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'certPem' })
    await expect(RootCA.fromPEM('hello')).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'certPem' })
    await expect(RootCA.fromPEM(ca.certPem + ca.certPem)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'certPem' })
  })

  it('loads a SEC1 EC key as well as PKCS#8', async () => {
    const ca = await RootCA.create()
    const sec1 = createPrivateKey(ca.keyPem ?? '').export({ type: 'sec1', format: 'pem' })
    const loaded = await RootCA.fromPEM(ca.certPem, sec1.toString())
    expect(loaded.keyPem).toBe(ca.keyPem)
    expect((await loadNodeKey(sec1.toString())).keyPem).toBe(ca.keyPem)
  })
})

describe('RootCA.issue', () => {
  it('issues a manager certificate with the SwarmKit profile, field by field', async () => {
    const clock = new ManualClock(T0)
    const ca = await RootCA.create({ clock })
    const key = await generateNodeKey()
    const issued = await ca.issue(await createCsr(key, { commonName: 'ignored' }), { nodeId: 'node1abc', role: 'manager', clusterId: 'clusterxyz', clock })
    const c = new X509Certificate(issued.certPem)
    expect(c.subject).toBe('CN=node1abc\nOU=swarm-manager\nO=clusterxyz')
    expect(c.issuer).toBe('CN=swarm-ca')
    expect(c.subjectAltName).toBe('DNS:swarm-manager, DNS:node1abc, DNS:swarm-ca, URI:spiffe://clusterxyz/swarm-manager/node1abc')
    expect(c.ca).toBe(false)
    expect(c.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
    expect(new Date(c.validFrom).getTime()).toBe(T0 - HOUR)
    expect(new Date(c.validTo).getTime()).toBe(T0 + 90 * DAY)
    expect(issued.notBefore).toBe(T0 - HOUR)
    expect(issued.notAfter).toBe(T0 + 90 * DAY)
    expect(c.serialNumber.toLowerCase()).toBe(issued.serialNumber.toLowerCase())
    expect(issued.chainPem).toBe(issued.certPem)
    expect(c.checkIssued(ca.certificate)).toBe(true)
    expect(c.verify(ca.certificate.publicKey)).toBe(true)
    // The certificate carries the CSR's public key.
    const pub = createPublicKey(key.keyPem).export({ type: 'spki', format: 'der' })
    expect(c.publicKey.export({ type: 'spki', format: 'der' }).equals(pub)).toBe(true)
    expect(identityOf(issued.certPem)).toEqual({ nodeId: 'node1abc', role: 'manager', clusterId: 'clusterxyz', spiffeId: 'spiffe://clusterxyz/swarm-manager/node1abc' })
  })

  it('issues a worker certificate without the swarm-ca SAN', async () => {
    const ca = await RootCA.create()
    const w = await issueNode(ca, 'w1', 'worker', 'c9', { ttlMs: HOUR })
    const c = new X509Certificate(w.certPem)
    expect(c.subject).toBe('CN=w1\nOU=swarm-worker\nO=c9')
    expect(c.subjectAltName).toBe('DNS:swarm-worker, DNS:w1, URI:spiffe://c9/swarm-worker/w1')
    expect(w.notAfter - w.notBefore).toBe(2 * HOUR)
  })

  it('adds the hosts asked for as IP and DNS SANs (IPv4, IPv6 with :: and an IPv4 tail), keeping the node identity', async () => {
    const ca = await RootCA.create()
    const csr = await createCsr(await generateNodeKey())
    const issued = await ca.issue(csr, { nodeId: 'm1', role: 'manager', clusterId: 'c1', hosts: ['127.0.0.1', '::1', 'fe80::1:2', '::ffff:10.0.0.2', 'localhost', 'docker.example.com'] })
    const c = new X509Certificate(issued.certPem)
    expect(c.subjectAltName).toBe(
      'DNS:swarm-manager, DNS:m1, DNS:swarm-ca, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:1:2, IP Address:0:0:0:0:0:FFFF:A00:2, DNS:localhost, DNS:docker.example.com, URI:spiffe://c1/swarm-manager/m1',
    )
    expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(c.checkHost('docker.example.com')).toBe('docker.example.com')
    expect(identityOf(issued.certPem)).toEqual({ nodeId: 'm1', role: 'manager', clusterId: 'c1', spiffeId: 'spiffe://c1/swarm-manager/m1' })
    await expect(ca.issue(csr, { nodeId: 'm1', role: 'manager', clusterId: 'c1', hosts: ['bad host'] })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'hosts[0]' })
    await expect(ca.issue(csr, { nodeId: 'm1', role: 'manager', clusterId: 'c1', hosts: ['localhost', ''] })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'hosts[1]' })
  })

  it.runIf(hasOpenssl)('produces certificates openssl verifies against the root', async () => {
    const ca = await RootCA.create()
    const w = await issueNode(ca, 'w1', 'worker')
    const r = opensslVerify(ca.certPem, w.certPem)
    expect(r.output).toContain('OK')
    expect(r.ok).toBe(true)
    const other = await RootCA.create()
    expect(opensslVerify(other.certPem, w.certPem).ok).toBe(false)
  })

  it('validates every option and the CSR, naming the field', async () => {
    const ca = await RootCA.create()
    const csr = await createCsr(await generateNodeKey())
    const ok = { nodeId: 'n1', role: 'worker' as const, clusterId: 'c1' }
    await expect(ca.issue(csr, { ...ok, ttlMs: HOUR - 1 })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'ttlMs' })
    await expect(ca.issue(csr, { ...ok, ttlMs: 1.5 * HOUR + 0.5 })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'ttlMs' })
    await expect(ca.issue(csr, { ...ok, nodeId: '' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'nodeId' })
    await expect(ca.issue(csr, { ...ok, nodeId: 'a/b' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'nodeId' })
    await expect(ca.issue(csr, { ...ok, clusterId: 'x y' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'clusterId' })
    await expect(ca.issue(csr, { ...ok, role: 'admin' as 'worker' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'role' })
    await expect(ca.issue('not a csr', ok)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'csr' })
    // A CSR whose signature was tampered with.
    const b64 = csr.split('\n').slice(1, -2).join('')
    const der = Buffer.from(b64, 'base64')
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff
    const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`
    await expect(ca.issue(bad, ok)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'csr' })
  })

  it('encodes validity after 2049 as GeneralizedTime', async () => {
    const clock = new ManualClock(Date.UTC(2049, 11, 1, 12, 0, 0))
    const ca = await RootCA.create({ clock })
    const n = await issueNode(ca, 'n1', 'worker', 'c1', { clock })
    const c = new X509Certificate(n.certPem)
    expect(new Date(c.validFrom).getTime()).toBe(Date.UTC(2049, 11, 1, 11, 0, 0))
    expect(new Date(c.validTo).getTime()).toBe(Date.UTC(2050, 2, 1, 12, 0, 0))
    expect(n.notAfter).toBe(Date.UTC(2050, 2, 1, 12, 0, 0))
  })

  it('truncates validity to whole seconds and reports what the certificate says', async () => {
    const clock = new ManualClock(T0 + 1234)
    const ca = await RootCA.create({ clock })
    const n = await issueNode(ca, 'n1', 'worker', 'c1', { clock, ttlMs: 2 * HOUR })
    expect(n.notBefore).toBe(T0 + 1000 - HOUR)
    expect(n.notAfter).toBe(T0 + 1000 + 2 * HOUR)
  })

  it('refuses a CSR for a key that is not ECDSA P-256', async () => {
    const ca = await RootCA.create()
    const alg = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' }
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: alg, name: [{ CN: ['x'] }] }, webcrypto)
    await expect(ca.issue(csr.toString('pem'), { nodeId: 'n', role: 'worker', clusterId: 'c' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'csr' })
  })

  it('refuses any mangled CSR with InvalidArgumentError (csr), never another error', async () => {
    const ca = await RootCA.create()
    const csr = await createCsr(await generateNodeKey())
    const der = Buffer.from(csr.split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64')
    fc.assert(
      fc.property(fc.nat({ max: der.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.nat({ max: der.length - 1 }), (at, xor, cut) => {
        const bad = Buffer.from(der)
        bad[at] = (bad[at] ?? 0) ^ xor
        for (const body of [bad, der.subarray(0, cut)]) {
          const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${body.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`
          expect(() => ca.issueSync(pem, { nodeId: 'n', role: 'worker', clusterId: 'c' })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'csr' }))
        }
      }),
      { numRuns: 300 },
    )
  })

  it('identityOf refuses a certificate with two URI SANs', async () => {
    const ca = await RootCA.create()
    const caKey = await loadNodeKey(ca.keyPem ?? '')
    const leafKey = await generateNodeKey()
    const cert = await x509.X509CertificateGenerator.create(
      {
        subject: [{ CN: ['n1'] }, { OU: ['swarm-worker'] }, { O: ['c1'] }],
        issuer: 'CN=swarm-ca',
        publicKey: leafKey.keys.publicKey,
        signingKey: caKey.keys.privateKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://c1/swarm-worker/n1' }, { type: 'url', value: 'spiffe://c1/swarm-manager/n1' }])],
      },
      webcrypto,
    )
    expect(() => identityOf(cert.toString('pem'))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', message: 'certificate: must carry exactly one URI SAN, found 2' }))
  })

  it('identityOf refuses certificates without a swarm identity', async () => {
    const ca = await RootCA.create()
    expect(() => identityOf(ca.certPem)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'certificate' }))
    expect(() => identityOf('junk')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'certificate' }))
  })
})
