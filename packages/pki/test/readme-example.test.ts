// The README's example, kept as a test so it stays true.
import { Server, makeGenericClientConstructor, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js'
import { expect, it } from 'vitest'
import { authorize, createCsr, credentials, generateNodeKey, RootCA, toServiceError } from '../src/index.ts'

it('README: issue a certificate and serve mTLS', async () => {
  // The cluster's CA (keep its key on the managers only).
  const ca = await RootCA.create()

  // A node makes a key and a CSR; the CA decides who the node is.
  const key = await generateNodeKey()
  const cert = await ca.issue(await createCsr(key), { nodeId: 'node1', role: 'manager', clusterId: 'cluster1' })
  const tls = { keyPem: key.keyPem, certChainPem: cert.chainPem, trustBundlePem: ca.certPem }

  // A manager-only gRPC method behind mutual TLS.
  const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b }
  const service = {
    Hello: { path: '/demo.Demo/Hello', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
  }
  const server = new Server()
  server.addService(service, {
    Hello(call: ServerUnaryCall<Buffer, Buffer>, reply: sendUnaryData<Buffer>) {
      try {
        const peer = authorize(call, ['manager'], { clusterId: 'cluster1' }) // PermissionDeniedError otherwise
        reply(null, Buffer.from(`hello ${peer.nodeId}`))
      } catch (err) {
        reply(toServiceError(err)) // PERMISSION_DENIED, with the typed error in metadata
      }
    },
  })
  const port = await new Promise<number>((ok, fail) => server.bindAsync('127.0.0.1:0', credentials.forServer(tls), (e, p) => (e ? fail(e) : ok(p))))

  // A client with its own certificate (here the same one) dials a manager by address.
  const Demo = makeGenericClientConstructor(service, 'Demo')
  const client = new Demo(`127.0.0.1:${port}`, credentials.forClient(tls, { clusterId: 'cluster1' }), credentials.channelOptions('manager'))
  const answer = await new Promise<string>((ok, fail) =>
    client.makeUnaryRequest('/demo.Demo/Hello', raw.serialize, raw.deserialize, Buffer.alloc(0), (e, res?: Buffer) => (e ? fail(e) : ok(String(res)))),
  )
  expect(answer).toBe('hello node1')
  client.close()
  server.forceShutdown()
})
