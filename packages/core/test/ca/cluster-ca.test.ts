import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FailedPreconditionError, InvalidArgumentError, IssuanceState } from '@swarmkit-ts/api'
import { identityOf, joinTokenDigest, JoinTokens, parseJoinToken, RootCA } from '@swarmkit-ts/pki'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { bootstrapClusterCA, pemText, shouldRenewCertificate } from '../../src/ca/index.ts'
import { caCodec } from '../../src/ca/wire.ts'
import { checkTlsMaterial } from '../../src/certs/index.ts'

describe('bootstrapClusterCA', () => {
  it('makes a root CA, join tokens pinned to it, the Cluster rootCa field and the first manager certificate', async () => {
    const ca = await bootstrapClusterCA({ clusterId: 'c1', nodeId: 'm1', random: new SeededRandom(1) })
    const rootPem = ca.rootCA.certPem
    expect(pemText(ca.rootCa.caCert)).toBe(rootPem)
    expect(pemText(ca.rootCa.caKey ?? new Uint8Array())).toBe(ca.rootCA.keyPem)
    expect(ca.rootCa.caCertHash).toBe(`sha256:${createHash('sha256').update(rootPem).digest('hex')}`)
    expect(ca.rootCa.joinTokens).toEqual(ca.joinTokens.toJSON())
    for (const role of ['worker', 'manager'] as const) {
      expect(parseJoinToken(ca.joinTokens[role]).digest).toBe(joinTokenDigest(rootPem))
      expect(JoinTokens.from(ca.rootCa.joinTokens).roleOf(ca.joinTokens[role])).toBe(role)
    }
    expect(identityOf(ca.manager.material.certChainPem)).toEqual({ nodeId: 'm1', role: 'manager', clusterId: 'c1', spiffeId: 'spiffe://c1/swarm-manager/m1' })
    expect(ca.rootCA.signed(ca.manager.material.certChainPem)).toBe(true)
    expect(ca.manager.material.trustBundlePem).toBe(rootPem)
    expect(checkTlsMaterial(ca.manager.material).identity.nodeId).toBe('m1')
    expect(ca.manager.certificate).toMatchObject({ role: 'manager', cn: 'm1', status: { state: IssuanceState.ISSUED } })
    expect(pemText(ca.manager.certificate.certificate ?? new Uint8Array())).toBe(ca.manager.material.certChainPem)
  })

  it('uses a given root CA, and refuses one without its key', async () => {
    const root = await RootCA.create()
    const ca = await bootstrapClusterCA({ rootCA: root })
    expect(ca.rootCA).toBe(root)
    expect(ca.clusterId).toHaveLength(25)
    const verifyOnly = await RootCA.fromPEM(root.certPem)
    await expect(bootstrapClusterCA({ rootCA: verifyOnly })).rejects.toBeInstanceOf(FailedPreconditionError)
  })
})

describe('CA wire messages', () => {
  const pemish = fc.string({ maxLength: 200 })
  it('round-trip every field (property)', () => {
    fc.assert(
      fc.property(pemish, fc.option(fc.string({ minLength: 1 }), { nil: undefined }), fc.constantFrom('active', 'pause', 'drain', undefined), (csrPem, token, availability) => {
        const back = caCodec.decodeIssueRequest(caCodec.encodeIssueRequest({ csrPem, ...(token === undefined ? {} : { token }), ...(availability === undefined ? {} : { availability }) }))
        expect(back).toEqual({ csrPem, token: token ?? '', availability: availability ?? '' })
      }),
    )
    fc.assert(
      fc.property(
        fc.constantFrom('unknown', 'renew', 'pending', 'issued', 'failed', 'rotate'),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        fc.constantFrom('manager', 'worker', undefined),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        (state, error, certificateChainPem, role, trustBundlePem) => {
          const res = {
            state,
            ...(error === undefined ? {} : { error }),
            ...(certificateChainPem === undefined ? {} : { certificateChainPem }),
            ...(role === undefined ? {} : { role }),
            ...(trustBundlePem === undefined ? {} : { trustBundlePem }),
          }
          expect(caCodec.decodeStatusResponse(caCodec.encodeStatusResponse(res))).toEqual(res)
        },
      ),
    )
  })

  it('a malformed request is an InvalidArgumentError, not a crash', () => {
    const bad = Buffer.from([0x0a, 0xff])
    expect(() => caCodec.decodeIssueRequest(bad)).toThrow(InvalidArgumentError)
    expect(() => caCodec.decodeIssueRequest(bad)).toThrow(/^undecodable IssueNodeCertificateRequest: /)
  })
})

describe('shouldRenewCertificate', () => {
  const entry = (state: IssuanceState) => ({ role: 'worker' as const, cn: 'n1', status: { state } })
  it('renews when the CA asks (rotate) or the role changed, never while a renewal is pending', () => {
    expect(shouldRenewCertificate({ role: 'worker', certificate: entry(IssuanceState.ROTATE) }, { role: 'worker' })).toBe(true)
    expect(shouldRenewCertificate({ role: 'manager', certificate: entry(IssuanceState.ISSUED) }, { role: 'worker' })).toBe(true)
    expect(shouldRenewCertificate({ role: 'worker', certificate: entry(IssuanceState.ISSUED) }, { role: 'worker' })).toBe(false)
    expect(shouldRenewCertificate({ role: 'manager', certificate: entry(IssuanceState.RENEW) }, { role: 'worker' })).toBe(false)
    expect(shouldRenewCertificate({ role: 'manager', certificate: entry(IssuanceState.PENDING) }, { role: 'worker' })).toBe(false)
    expect(shouldRenewCertificate({ role: 'worker' }, { role: 'worker' })).toBe(false)
  })
})
