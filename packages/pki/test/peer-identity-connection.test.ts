import { TLSSocket } from 'node:tls'
import { makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { credentials, RootCA, type NodeIdentity } from '../src/index.ts'
import { issueNode, material, type IssuedNode } from './helpers/fixtures.ts'
import { EchoService, startEcho, type Harness } from './helpers/grpc-harness.ts'

type EchoClient = Client & { WhoAmI(req: Buffer, cb: (err: ServiceError | null, res?: Buffer) => void): void }
const EchoClientCtor = makeGenericClientConstructor(EchoService, 'Echo')

function whoAmI(client: EchoClient): Promise<NodeIdentity> {
  return new Promise((resolve, reject) => {
    client.WhoAmI(Buffer.alloc(0), (err, res) => (err === null ? resolve(JSON.parse((res ?? Buffer.alloc(0)).toString('utf8')) as NodeIdentity) : reject(err)))
  })
}

describe('peerIdentity over a real grpc-js server', () => {
  let ca: RootCA
  let manager: IssuedNode
  let worker: IssuedNode
  let server: Harness
  const clients: Client[] = []

  beforeAll(async () => {
    ca = await RootCA.create()
    manager = await issueNode(ca, 'mgr1', 'manager', 'c1')
    worker = await issueNode(ca, 'wrk1', 'worker', 'c1')
    server = await startEcho(credentials.forServer(material(manager, ca.certPem)), { clusterId: 'c1' })
  })
  afterEach(() => {
    vi.restoreAllMocks()
    for (const c of clients.splice(0)) c.close()
  })
  afterAll(async () => {
    await server.close()
  })

  const connect = (node: IssuedNode): EchoClient => {
    const client = new EchoClientCtor(`127.0.0.1:${server.port}`, credentials.forClient(material(node, ca.certPem), { clusterId: 'c1' }), credentials.channelOptions()) as unknown as EchoClient
    clients.push(client)
    return client
  }

  it('reads the caller certificate once per connection, not on every call', async () => {
    const reads = vi.spyOn(TLSSocket.prototype, 'getPeerCertificate')
    const client = connect(manager)
    expect(await whoAmI(client)).toEqual({ nodeId: 'mgr1', role: 'manager', clusterId: 'c1', spiffeId: 'spiffe://c1/swarm-manager/mgr1' })
    const afterFirst = reads.mock.calls.length
    for (let i = 0; i < 5; i++) expect((await whoAmI(client)).nodeId).toBe('mgr1')
    expect(reads.mock.calls.length).toBe(afterFirst)
  })

  it('keeps each connection to its own certificate', async () => {
    const m = connect(manager)
    const w = connect(worker)
    const seen = await Promise.all([whoAmI(m), whoAmI(w), whoAmI(m), whoAmI(w)])
    expect(seen.map((id) => `${id.role}:${id.nodeId}`)).toEqual(['manager:mgr1', 'worker:wrk1', 'manager:mgr1', 'worker:wrk1'])
  })
})
