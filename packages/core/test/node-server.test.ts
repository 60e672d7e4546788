/**
 * NodeServer: one grpc-js server per node over mTLS on 127.0.0.1 — client certificates verified
 * when presented but not required, so a node without one can reach the CA's issuing call while
 * every other service refuses it through pki's `authorize`.
 */
import { Client, credentials as grpcCredentials, type ServerUnaryCall, type ServiceDefinition, type ServiceError, type sendUnaryData } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, cryptoRandom, generateId } from '@swarmkit-ts/api'
import { RootCA, authorize, createCsr, credentials, generateNodeKey, TlsMaterialSource } from '@swarmkit-ts/pki'
import { fromGrpcError, toGrpcError } from '../src/rpc/errors.ts'
import { NodeServer } from '../src/server/index.ts'
import { CLUSTER_ID, cleanupAfterEach, managerTls } from './helpers/manager-rig.ts'

const cleanup = cleanupAfterEach()
const raw = (b: Buffer): Buffer => b

/** A unary `WhoAmI` (answers the caller's node id, or the authorization error) and a `Hang` that never answers. */
const testService: ServiceDefinition = {
  WhoAmI: { path: '/test.Node/WhoAmI', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw, originalName: 'whoAmI' },
  Hang: { path: '/test.Node/Hang', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw, originalName: 'hang' },
}

async function serve(extra?: { advertiseAddress?: string; shutdownGraceMs?: number }): Promise<{ server: NodeServer; hung: number[] }> {
  const server = new NodeServer({ listenAddress: '127.0.0.1:0', tls: await managerTls(generateId(cryptoRandom)), ...extra })
  const hung: number[] = []
  server.server.addService(testService, {
    WhoAmI: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      try {
        cb(null, Buffer.from(authorize(call, ['manager', 'worker'], { clusterId: CLUSTER_ID }).nodeId))
      } catch (err) {
        cb(toGrpcError(err))
      }
    },
    Hang: () => void hung.push(1),
  })
  await server.listen()
  cleanup.push(() => server.close())
  return { server, hung }
}

function call(address: string, method: 'WhoAmI' | 'Hang', creds: ReturnType<typeof credentials.forClient>): Promise<string> {
  const client = new Client(address, creds, credentials.channelOptions('manager'))
  cleanup.push(() => client.close())
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(`/test.Node/${method}`, raw, raw, Buffer.alloc(0), (err: ServiceError | null, res?: Buffer) => (err === null ? resolve(res?.toString() ?? '') : reject(fromGrpcError(err))))
  })
}

async function workerTls(ca: RootCA, nodeId: string): Promise<TlsMaterialSource> {
  const key = await generateNodeKey()
  const cert = await ca.issue(await createCsr(key), { nodeId, role: 'worker', clusterId: CLUSTER_ID })
  return new TlsMaterialSource({ keyPem: key.keyPem, certChainPem: cert.chainPem, trustBundlePem: ca.certPem })
}

describe('NodeServer', () => {
  it('binds an OS-chosen port and reports it; the advertise address defaults to it', async () => {
    const { server } = await serve()
    expect(server.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/)
    expect(server.advertiseAddress).toBe(server.address)
    expect(server.listening).toBe(true)
    const advertised = await serve({ advertiseAddress: 'manager-1.example:4242' })
    expect(advertised.server.advertiseAddress).toBe('manager-1.example:4242')
  })

  it('identifies a caller by its client certificate', async () => {
    const { server } = await serve()
    const tls = await managerTls('callerid00000000000000001')
    await expect(call(server.address, 'WhoAmI', credentials.forClient(tls, { clusterId: CLUSTER_ID }))).resolves.toBe('callerid00000000000000001')
  })

  it('lets a caller without a certificate connect, and authorize refuses it', async () => {
    const { server } = await serve()
    const trust = (await managerTls(generateId(cryptoRandom))).current.trustBundlePem
    const anonymous = grpcCredentials.createSsl(Buffer.from(trust))
    await expect(call(server.address, 'WhoAmI', anonymous)).rejects.toMatchObject({ name: 'PermissionDeniedError', message: 'the call carries no TLS client certificate' })
  })

  it('never shows a handler a certificate the trust bundle does not verify', async () => {
    const { server } = await serve()
    const foreign = await RootCA.create()
    const tls = await workerTls(foreign, generateId(cryptoRandom))
    // The client trusts the server's CA but presents a certificate of another CA.
    const trust = (await managerTls(generateId(cryptoRandom))).current.trustBundlePem
    const creds = grpcCredentials.createSsl(Buffer.from(trust), Buffer.from(tls.current.keyPem), Buffer.from(tls.current.certChainPem))
    await expect(call(server.address, 'WhoAmI', creds)).rejects.toMatchObject({ name: 'PermissionDeniedError', message: 'the call carries no TLS client certificate' })
  })

  it('close() cancels calls still running after the grace period, and is idempotent', async () => {
    const { server, hung } = await serve({ shutdownGraceMs: 50 })
    const tls = await managerTls(generateId(cryptoRandom))
    const pending = call(server.address, 'Hang', credentials.forClient(tls, { clusterId: CLUSTER_ID }))
    const outcome = pending.then(() => 'answered', (err: unknown) => (err as Error).name)
    while (hung.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    await Promise.all([server.close(), server.close()])
    expect(await outcome).toBe('UnavailableError')
    expect(server.listening).toBe(false)
  })

  it('validates its options and its lifecycle with typed errors', async () => {
    const tls = await managerTls(generateId(cryptoRandom))
    expect(() => new NodeServer({ listenAddress: 'nowhere', tls })).toThrow(InvalidArgumentError)
    expect(() => new NodeServer({ listenAddress: 'nowhere', tls })).toThrow(/listenAddress/)
    expect(() => new NodeServer({ listenAddress: '127.0.0.1:0', advertiseAddress: 'host:0', tls })).toThrow(/advertiseAddress/)
    const server = new NodeServer({ listenAddress: '127.0.0.1:0', tls })
    cleanup.push(() => server.close())
    expect(() => server.address).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'not-listening' }))
    await server.listen()
    await expect(server.listen()).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'already-listening' })
    const taken = new NodeServer({ listenAddress: server.address, tls })
    cleanup.push(() => taken.close())
    await expect(taken.listen()).rejects.toMatchObject({ name: 'UnavailableError' })
  })
})
