/**
 * Fixtures of the dispatcher-over-gRPC tests: a root CA minting node certificates (a worker's CN
 * is its node id), a manager's NodeServer on 127.0.0.1 with the dispatcher service, and a
 * `DispatcherApi` per node made lazily (a certificate is minted on its first call).
 */
import type { ChannelCredentials } from '@grpc/grpc-js'
import type { DispatcherApi, NodeRole } from '@swarmkit-ts/api'
import type { Dispatcher } from '@swarmkit-ts/orchestrator'
import { createCsr, credentials, generateNodeKey, RootCA, TlsMaterialSource } from '@swarmkit-ts/pki'
import type { CertificateDenyList, NodeKey, TlsMaterial } from '@swarmkit-ts/pki'
import { addDispatcherService, authorizeDispatcherCaller, GrpcDispatcherClient, GrpcDispatcherConnector } from '../../src/dispatcher/index.ts'
import type { DispatcherService } from '../../src/dispatcher/index.ts'
import { NodeServer } from '../../src/server/index.ts'

/** The cluster the test certificates belong to. */
export const CLUSTER_ID = 'clusterdispatch0000000001'

/** A root CA and one key pair shared by every certificate it mints for the tests. */
export class TestPki {
  readonly ca: RootCA
  readonly #key: NodeKey
  readonly #csr: string
  readonly #tls = new Map<string, Promise<TlsMaterial>>()

  private constructor(ca: RootCA, key: NodeKey, csr: string) {
    this.ca = ca
    this.#key = key
    this.#csr = csr
  }

  static async create(): Promise<TestPki> {
    const key = await generateNodeKey()
    return new TestPki(await RootCA.create(), key, await createCsr(key))
  }

  /** TLS material of node `nodeId` with `role` (of `clusterId`), minted once. */
  tls(nodeId: string, role: NodeRole, clusterId = CLUSTER_ID): Promise<TlsMaterial> {
    const k = `${nodeId}/${role}/${clusterId}`
    let m = this.#tls.get(k)
    if (m === undefined) {
      m = this.ca.issue(this.#csr, { nodeId, role, clusterId }).then((c) => ({ keyPem: this.#key.keyPem, certChainPem: c.chainPem, trustBundlePem: this.ca.certPem }))
      this.#tls.set(k, m)
    }
    return m
  }

  /** Client credentials of node `nodeId` (a worker by default), checking the server is a manager of the cluster. */
  async client(nodeId: string, role: NodeRole = 'worker', clusterId = CLUSTER_ID): Promise<ChannelCredentials> {
    return credentials.forClient(await this.tls(nodeId, role, clusterId), { clusterId: CLUSTER_ID })
  }
}

let shared: Promise<TestPki> | undefined
/** One CA for a whole test file. */
export function testPki(): Promise<TestPki> {
  shared ??= TestPki.create()
  return shared
}

/** A manager's server with the dispatcher service. */
export interface DispatcherServerRig {
  readonly server: NodeServer
  readonly service: DispatcherService
  /** `127.0.0.1:<port>`. */
  readonly address: string
  /** Calls received (each authorized before anything else). */
  readonly calls: number
  close(): Promise<void>
}

/** Options of {@link startDispatcherServer}. */
export interface DispatcherServerOptions {
  readonly dispatcher: () => Dispatcher | undefined
  readonly leaderAddress?: () => string | undefined
  /** `127.0.0.1:0` unless given (a restarted server reuses its port). */
  readonly listenAddress?: string
  /** The manager's node id. */
  readonly managerId?: string
  /** Removed nodes whose certificates are refused. */
  readonly denyList?: CertificateDenyList
}

/** Starts a manager's NodeServer on 127.0.0.1 serving the dispatcher. */
export async function startDispatcherServer(pki: TestPki, options: DispatcherServerOptions): Promise<DispatcherServerRig> {
  const tls = new TlsMaterialSource(await pki.tls(options.managerId ?? 'manager00000000000000001', 'manager'))
  const server = new NodeServer({ listenAddress: options.listenAddress ?? '127.0.0.1:0', tls, shutdownGraceMs: 0 })
  const authorize = authorizeDispatcherCaller({ clusterId: CLUSTER_ID, ...(options.denyList === undefined ? {} : { denyList: options.denyList }) })
  let calls = 0
  const service = addDispatcherService(server.server, {
    dispatcher: options.dispatcher,
    authorize: (call) => {
      calls++
      return authorize(call)
    },
    ...(options.leaderAddress === undefined ? {} : { leaderAddress: options.leaderAddress }),
  })
  await server.listen()
  return {
    server,
    service,
    address: server.address,
    get calls() {
      return calls
    },
    close: async () => {
      service.closeAll()
      await server.close()
    },
  }
}

/** What carries a node's calls: a client, or a connector's api. */
interface NodeBinding {
  readonly api: DispatcherApi
  close(): void
}

/**
 * `DispatcherApi`s of nodes on one manager, each over its own binding (made on the node's first
 * call): a `GrpcDispatcherClient`, or with `via: 'connector'` a `GrpcDispatcherConnector`'s
 * `connect()` to the manager as the agent's only one; `close()` closes them.
 */
export class LazyClients {
  readonly #pki: TestPki
  readonly #address: string
  readonly #via: 'client' | 'connector'
  readonly #clients = new Map<string, Promise<NodeBinding>>()

  constructor(pki: TestPki, address: string, via: 'client' | 'connector' = 'client') {
    this.#pki = pki
    this.#address = address
    this.#via = via
  }

  async #bind(nodeId: string): Promise<NodeBinding> {
    const credentials = await this.#pki.client(nodeId)
    if (this.#via === 'client') {
      const client = new GrpcDispatcherClient({ address: this.#address, credentials })
      return { api: client, close: () => client.close() }
    }
    const connector = new GrpcDispatcherConnector({ credentials })
    return { api: connector.connect({ nodeId: 'manager00000000000000001', addr: this.#address, weight: 1 }), close: () => connector.close() }
  }

  /** The api of node `nodeId` (a worker certificate with that CN). */
  api(nodeId: string): DispatcherApi {
    const client = async (): Promise<DispatcherApi> => {
      let c = this.#clients.get(nodeId)
      if (c === undefined) {
        c = this.#bind(nodeId)
        this.#clients.set(nodeId, c)
      }
      return (await c).api
    }
    return {
      session: (request, options) =>
        (async function* () {
          yield* (await client()).session(request, options)
        })(),
      heartbeat: async (request) => (await client()).heartbeat(request),
      assignments: (request, options) =>
        (async function* () {
          yield* (await client()).assignments(request, options)
        })(),
      updateTaskStatus: async (request) => (await client()).updateTaskStatus(request),
    }
  }

  /** Closes every client. */
  async close(): Promise<void> {
    for (const c of this.#clients.values()) (await c).close()
    this.#clients.clear()
  }
}
