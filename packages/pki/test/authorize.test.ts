import { X509Certificate } from 'node:crypto'
import type { PeerCertificate } from 'node:tls'
import { describe, expect, it } from 'vitest'
import { ERROR_CONTEXT_METADATA_KEY, ERROR_NAME_METADATA_KEY, fromGrpcStatus, GrpcStatus, InvalidArgumentError, PermissionDeniedError } from '@swarmkit-ts/api'
import { ManualClock } from '@swarmkit-ts/testkit'
import { authorize, CertificateDenyList, peerIdentity, RootCA, toServiceError, type CallWithAuthContext } from '../src/index.ts'
import { issueNode } from './helpers/fixtures.ts'

function callWith(certPem: string | undefined, transport = 'ssl'): CallWithAuthContext {
  const peer = certPem === undefined ? undefined : ({ raw: new X509Certificate(certPem).raw } as PeerCertificate)
  return { getAuthContext: () => (peer === undefined ? { transportSecurityType: transport } : { transportSecurityType: transport, sslPeerCertificate: peer }) }
}

describe('authorize', () => {
  it('returns the identity for an allowed role and cluster, and refuses the rest', async () => {
    const ca = await RootCA.create()
    const w = await issueNode(ca, 'w1', 'worker', 'c1')
    expect(authorize(callWith(w.certPem), ['worker'], { clusterId: 'c1' })).toEqual({ nodeId: 'w1', role: 'worker', clusterId: 'c1', spiffeId: 'spiffe://c1/swarm-worker/w1' })
    expect(() => authorize(callWith(w.certPem), ['manager'])).toThrow(expect.objectContaining({ name: 'PermissionDeniedError', role: 'worker', message: 'role worker may not call this method (allowed: manager)' }))
    expect(() => authorize(callWith(w.certPem), ['worker'], { clusterId: 'c2' })).toThrow(expect.objectContaining({ name: 'PermissionDeniedError', role: 'worker' }))
    expect(() => authorize(callWith(undefined), ['worker'])).toThrow(expect.objectContaining({ name: 'PermissionDeniedError', message: 'the call carries no TLS client certificate' }))
    expect(() => authorize(callWith(undefined, 'insecure'), ['worker'])).toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
    // A CA certificate has no node identity.
    expect(() => peerIdentity(callWith(ca.certPem))).toThrow(expect.objectContaining({ name: 'PermissionDeniedError', message: 'the client certificate carries no valid swarm node identity' }))
  })

  it('refuses denied nodes until the entry expires', async () => {
    const ca = await RootCA.create()
    const w = await issueNode(ca, 'w1', 'worker', 'c1')
    const clock = new ManualClock(1000)
    const denyList = new CertificateDenyList([{ nodeId: 'w1', expiresAt: 5000 }, { nodeId: 'w9' }])
    expect(() => authorize(callWith(w.certPem), ['worker'], { denyList, clock })).toThrow(expect.objectContaining({ name: 'PermissionDeniedError', message: 'node w1 has been removed from the cluster' }))
    clock.advance(4000)
    expect(authorize(callWith(w.certPem), ['worker'], { denyList, clock }).nodeId).toBe('w1')
    expect(denyList.denies('w9', Number.MAX_SAFE_INTEGER)).toBe(true)
    expect(denyList.prune(clock)).toBe(1)
    expect(denyList.entries()).toEqual([{ nodeId: 'w9' }])
    denyList.remove('w9')
    expect(denyList.entries()).toEqual([])
    expect(() => denyList.add('')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'nodeId' }))
    expect(() => denyList.add('x', Number.NaN)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'expiresAt' }))
  })
})

describe('peerIdentity', () => {
  const withFingerprint = (certPem: string, fingerprint256: string): CallWithAuthContext => {
    const peer = { raw: new X509Certificate(certPem).raw, fingerprint256 } as PeerCertificate
    return { getAuthContext: () => ({ transportSecurityType: 'ssl', sslPeerCertificate: peer }) }
  }

  it('reads a certificate once and answers its identity from then on, checking the bytes behind the fingerprint', async () => {
    const ca = await RootCA.create()
    const m = await issueNode(ca, 'm1', 'manager', 'c1')
    const w = await issueNode(ca, 'w1', 'worker', 'c1')
    const fingerprint = new X509Certificate(m.certPem).fingerprint256
    const first = peerIdentity(withFingerprint(m.certPem, fingerprint))
    expect(first).toEqual({ nodeId: 'm1', role: 'manager', clusterId: 'c1', spiffeId: 'spiffe://c1/swarm-manager/m1' })
    expect(peerIdentity(withFingerprint(m.certPem, fingerprint))).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
    // Other bytes under the same fingerprint are read for what they are.
    expect(peerIdentity(withFingerprint(w.certPem, fingerprint))).toEqual({ nodeId: 'w1', role: 'worker', clusterId: 'c1', spiffeId: 'spiffe://c1/swarm-worker/w1' })
  })
})

describe('toServiceError', () => {
  it('keeps the status code, name and context so the client restores the typed error', () => {
    const e = toServiceError(new PermissionDeniedError('no', { role: 'worker' }))
    expect(e.code).toBe(GrpcStatus.PERMISSION_DENIED)
    expect(e.details).toBe('no')
    const md = e.metadata?.getMap() ?? {}
    expect(md[ERROR_NAME_METADATA_KEY]).toBe('PermissionDeniedError')
    expect(md[ERROR_CONTEXT_METADATA_KEY]).toBe('{"role":"worker"}')
    const back = fromGrpcStatus({ code: e.code ?? 0, details: e.details ?? '', metadata: { [ERROR_NAME_METADATA_KEY]: 'PermissionDeniedError', [ERROR_CONTEXT_METADATA_KEY]: '{"role":"worker"}' } })
    expect(back).toMatchObject({ name: 'PermissionDeniedError', role: 'worker', message: 'no' })
    expect(toServiceError(new InvalidArgumentError('a.b', 'bad')).code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(toServiceError(new Error('boom'))).toMatchObject({ code: GrpcStatus.UNKNOWN, details: 'boom' })
  })
})
