/**
 * issueServingCertificate: a manager's certificate for serving another protocol by address (the
 * Docker API over TCP) — its own identity and key, the cluster's CA, the hosts clients dial.
 */
import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { identityOf } from '@swarmkit-ts/pki'
import { issueServingCertificate } from '../../src/ca/index.ts'
import { ClusterRig } from './rig.ts'

const rig = new ClusterRig()

describe('issueServingCertificate', () => {
  it("issues a joined manager the cluster CA's certificate with its own identity and key, valid for the hosts asked and until its node certificate ends", async () => {
    const m1 = await rig.init()
    const m2 = await rig.joinManager(m1)
    const material = await issueServingCertificate({ store: m2.manager.store, tls: m2.tls, hosts: ['127.0.0.1', 'localhost'] })
    const cert = new X509Certificate(material.certChainPem)
    const node = new X509Certificate(m2.tls.current.certChainPem)
    expect(identityOf(cert)).toEqual(identityOf(node))
    expect(identityOf(cert).nodeId).toBe(m2.nodeId)
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(cert.checkHost('localhost')).toBe('localhost')
    expect(node.checkIP('127.0.0.1')).toBeUndefined()
    expect(cert.verify(new X509Certificate(m1.tls.current.trustBundlePem).publicKey)).toBe(true)
    expect(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(node.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true)
    expect(cert.validTo).toBe(node.validTo)
    expect(material.keyPem).toBe(m2.tls.current.keyPem)
    expect(material.trustBundlePem).toBe(m2.tls.current.trustBundlePem)
  })

  it('refuses a bad host naming it, and issues nothing', async () => {
    const m1 = await rig.init()
    await expect(issueServingCertificate({ store: m1.manager.store, tls: m1.tls, hosts: ['ok.example', 'not a host'] })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'hosts[1]' })
  })
})
