import { X509Certificate } from 'node:crypto'
import { Metadata, type sendUnaryData, type ServerUnaryCall, Client } from '@grpc/grpc-js'
import { afterEach, describe, expect, it } from 'vitest'
import { PermissionDeniedError, type NodeRole } from '@swarmkit-ts/api'
import { createCsr, credentials, generateNodeKey, type TlsMaterial } from '@swarmkit-ts/pki'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import {
  clusterAuthorizer,
  followNodeCertificate,
  NodeCertificateRenewal,
  removeNodeAndDenyCertificate,
  renewNodeCertificate,
  requestNodeCertificate,
  type NodeCertificateResult,
} from '../../src/ca/index.ts'
import { NodeCertificateStore } from '../../src/certs/index.ts'
import { fromGrpcError, toGrpcError } from '../../src/rpc/errors.ts'
import { CaRigs, type CaManager } from './ca-harness.ts'
import { TempDirs } from './fixtures.ts'

const WHO = '/test.Who/Who'
const raw = (b: Buffer): Buffer => b

/** Registers `Who` (any role, authorized by the cluster authorizer) on the manager's server. */
function addWho(m: CaManager, store: MemoryStore = m.store): void {
  const authorizer = clusterAuthorizer(store, { clusterId: m.ca.clusterId })
  const def = { Who: { path: WHO, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } }
  m.server.addService(def, {
    Who: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      try {
        cb(null, Buffer.from(authorizer(call, ['worker', 'manager']).nodeId))
      } catch (err) {
        cb(toGrpcError(err))
      }
    },
  })
}

function who(address: string, material: TlsMaterial): Promise<string> {
  const client = new Client(address, credentials.forClient(material), credentials.channelOptions('manager'))
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(WHO, raw, raw, Buffer.alloc(0), new Metadata(), {}, (err, res) => {
      client.close()
      if (err !== null || res === undefined) reject(fromGrpcError(err))
      else resolve(res.toString())
    })
  })
}

function serial(pem: string): string {
  return new X509Certificate(pem).serialNumber
}

describe('renewal and removal over gRPC + TLS', () => {
  const rigs = new CaRigs()
  const dirs = new TempDirs()
  afterEach(async () => {
    await rigs.cleanup()
    await dirs.cleanup()
  })

  async function joined(m: CaManager, role: NodeRole = 'worker'): Promise<{ certificates: NodeCertificateStore; got: NodeCertificateResult }> {
    const certificates = new NodeCertificateStore({ stateDir: await dirs.make() })
    const got = await requestNodeCertificate({ joinAddr: m.address, token: m.ca.joinTokens[role], certificates })
    return { certificates, got }
  }

  it('renews with the current certificate and no token: a new key and certificate for the same node, saved and pushed to the TLS source', async () => {
    const m = await rigs.manager()
    const { certificates, got } = await joined(m)
    const source = certificates.tlsSource()
    const renewed = await renewNodeCertificate({ managerAddr: m.address, certificates })
    expect(renewed.identity).toEqual(got.identity)
    expect(serial(renewed.material.certChainPem)).not.toBe(serial(got.material.certChainPem))
    expect(renewed.material.keyPem).not.toBe(got.material.keyPem)
    expect(source.current).toEqual(renewed.material)
    expect(await new NodeCertificateStore({ stateDir: certificates.paths.dir.replace(/\/certificates$/, '') }).load()).toEqual(renewed.material)
    expect(m.store.view((tx) => tx.nodes.get(got.identity.nodeId)?.certificate?.status.state)).toBe('issued')
  })

  it("renewal carries the node's current role: a promoted worker gets a manager certificate", async () => {
    const m = await rigs.manager()
    const { certificates, got } = await joined(m)
    await m.store.update((tx) => {
      tx.nodes.update(got.identity.nodeId, (d) => {
        d.role = 'manager'
        d.spec.desiredRole = 'manager'
      })
    })
    const renewed = await renewNodeCertificate({ managerAddr: m.address, certificates })
    expect(renewed.identity.role).toBe('manager')
  })

  it('NodeCertificateRenewal renews at its scheduled point (50–80 % of the validity) on the clock', async () => {
    const m = await rigs.manager()
    const { certificates, got } = await joined(m)
    const clock = new ManualClock(Date.now())
    const renewedOnce = new Promise<NodeCertificateResult>((resolve) => {
      const renewal = new NodeCertificateRenewal({ certificates, managerAddress: () => m.address, clock, random: new SeededRandom(7), onRenewed: resolve })
      rigs.add(() => Promise.resolve(renewal.stop()))
      renewal.start()
      const at = renewal.nextRenewalAt ?? 0
      const span = got.validity.notAfter - got.validity.notBefore
      expect(at).toBeGreaterThanOrEqual(got.validity.notBefore + 0.5 * span)
      expect(at).toBeLessThanOrEqual(got.validity.notBefore + 0.8 * span)
      clock.advance(at - clock.now() - 1)
      expect(clock.pending()).toBe(1)
      clock.advance(1)
    })
    const renewed = await renewedOnce
    expect(renewed.identity.nodeId).toBe(got.identity.nodeId)
    expect(certificates.current).toEqual(renewed.material)
  })

  it("a removed node's certificate is refused everywhere: by the cluster authorizer and by renewal", async () => {
    const m = await rigs.manager()
    addWho(m)
    const { certificates, got } = await joined(m)
    expect(await who(m.address, got.material)).toBe(got.identity.nodeId)
    await m.store.update((tx) => removeNodeAndDenyCertificate(tx, got.identity.nodeId))
    const cluster = m.store.view((tx) => tx.clusters.get(m.ca.clusterId))
    expect(cluster?.blacklistedCertificates?.[got.identity.nodeId]).toEqual({ expiry: got.validity.notAfter })
    const denied = await who(m.address, got.material).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(denied).toBeInstanceOf(PermissionDeniedError)
    expect((denied as Error).message).toBe(`node ${got.identity.nodeId} has been removed from the cluster`)
    const renewal = await renewNodeCertificate({ managerAddr: m.address, certificates }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(renewal).toBeInstanceOf(PermissionDeniedError)
  })

  it('a node deleted from the store cannot renew even before it is denied', async () => {
    const m = await rigs.manager()
    const { certificates, got } = await joined(m)
    await m.store.update((tx) => tx.nodes.delete(got.identity.nodeId))
    const err = await renewNodeCertificate({ managerAddr: m.address, certificates }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect((err as Error).message).toBe(`node ${got.identity.nodeId} has been removed from the cluster`)
  })

  it('the cluster authorizer refuses a certificate of another cluster under the same root', async () => {
    const m = await rigs.manager()
    addWho(m)
    const foreignKey = await generateNodeKey()
    const foreign = m.ca.rootCA.issueSync(await createCsr(foreignKey), { nodeId: 'intruder', role: 'manager', clusterId: 'othercluster' })
    const err = await who(m.address, { keyPem: foreignKey.keyPem, certChainPem: foreign.chainPem, trustBundlePem: m.ca.rootCA.certPem }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect((err as Error).message).toBe(`certificate is for cluster othercluster, not ${m.ca.clusterId}`)
  })

  it("before the store holds a Cluster object (a manager catching up), callers must belong to the node's own cluster", async () => {
    const m = await rigs.manager()
    const { got } = await joined(m)
    const lagging = await rigs.follower(m)
    const empty = new MemoryStore()
    addWho(lagging, empty)
    expect(await who(lagging.address, got.material)).toBe(got.identity.nodeId)
    const key = await generateNodeKey()
    const foreign = m.ca.rootCA.issueSync(await createCsr(key), { nodeId: 'intruder', role: 'worker', clusterId: 'othercluster' })
    const err = await who(lagging.address, { keyPem: key.keyPem, certChainPem: foreign.chainPem, trustBundlePem: m.ca.rootCA.certPem }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect((err as Error).message).toBe(`certificate is for cluster othercluster, not ${m.ca.clusterId}`)
  })

  it('followNodeCertificate renews when the Node object asks: a promotion yields a manager certificate', async () => {
    const m = await rigs.manager()
    const { certificates, got } = await joined(m)
    const stop = new AbortController()
    const renewedOnce = new Promise<NodeCertificateResult>((resolve) => {
      const renewal = new NodeCertificateRenewal({ certificates, managerAddress: () => m.address, onRenewed: resolve })
      const following = followNodeCertificate({ store: m.store, nodeId: got.identity.nodeId, certificates, renewal, signal: stop.signal })
      rigs.add(async () => {
        stop.abort()
        renewal.stop()
        await following
      })
    })
    await m.store.update((tx) => {
      tx.nodes.update(got.identity.nodeId, (d) => {
        d.role = 'manager'
      })
    })
    const renewed = await renewedOnce
    expect(renewed.identity).toMatchObject({ nodeId: got.identity.nodeId, role: 'manager' })
    expect(certificates.identity?.role).toBe('manager')
  })
})
