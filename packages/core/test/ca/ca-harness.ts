import { ServerInterceptingCall, type Server, type ServerInterceptor } from '@grpc/grpc-js'
import { cryptoRandom, NotLeaderError, silentLogger, systemClock, type Cluster } from '@swarmkit-ts/api'
import { TlsMaterialSource, type RootCA } from '@swarmkit-ts/pki'
import { MemoryStore } from '@swarmkit-ts/store'
import { addCaService, bootstrapClusterCA, caSigner, type ClusterCA } from '../../src/ca/index.ts'
import type { LeaderComponentHandle } from '../../src/manager/leader-component.ts'
import { NodeServer } from '../../src/server/node-server.ts'

/** A NodeServer (the manager's one mTLS server) with the CA service over `store`, recording the paths it is called on. */
async function serveCa(store: MemoryStore, tls: TlsMaterialSource, statusWaitMs?: number): Promise<{ node: NodeServer; calls: string[] }> {
  const calls: string[] = []
  const record: ServerInterceptor = (method, call) => {
    calls.push(method.path)
    return new ServerInterceptingCall(call)
  }
  const node = new NodeServer({ listenAddress: '127.0.0.1:0', tls, options: { interceptors: [record] }, shutdownGraceMs: 0 })
  addCaService(node.server, { store, ...(statusWaitMs === undefined ? {} : { statusWaitMs }) })
  await node.listen()
  return { node, calls }
}

/** A manager's CA over real gRPC + TLS on 127.0.0.1: a store with the Cluster object and the first manager, the CA service, the signer. */
export interface CaManager {
  readonly ca: ClusterCA
  readonly store: MemoryStore
  readonly address: string
  readonly tls: TlsMaterialSource
  /** The grpc-js server (register more services on it). */
  readonly server: Server
  /** Paths of the calls the server received, in order. */
  readonly calls: string[]
  close(): Promise<void>
}

/** Clean-up of everything the tests start. */
export class CaRigs {
  readonly #closers: (() => Promise<void>)[] = []

  /** Starts a manager of a new cluster (its own root CA unless `rootCA` is given). */
  async manager(options?: { rootCA?: RootCA; clusterId?: string; signer?: boolean; statusWaitMs?: number }): Promise<CaManager> {
    const ca = await bootstrapClusterCA({ ...(options?.rootCA === undefined ? {} : { rootCA: options.rootCA }), ...(options?.clusterId === undefined ? {} : { clusterId: options.clusterId }) })
    const store = new MemoryStore()
    await store.update((tx) => {
      const cluster: Omit<Cluster, 'meta'> = { id: ca.clusterId, spec: { annotations: { name: 'default' } }, rootCa: ca.rootCa }
      tx.clusters.create(cluster)
      tx.nodes.create({
        id: ca.manager.nodeId,
        spec: { annotations: { name: '' }, desiredRole: 'manager', membership: 'accepted', availability: 'active' },
        role: 'manager',
        status: { state: 'ready' },
        certificate: ca.manager.certificate,
      })
    })
    const tls = new TlsMaterialSource(ca.manager.material)
    const { node, calls } = await serveCa(store, tls, options?.statusWaitMs)
    const term = new AbortController()
    let signer: LeaderComponentHandle | undefined
    if (options?.signer !== false) {
      signer = await caSigner().start({ store, clock: systemClock, random: cryptoRandom, logger: silentLogger, nodeId: ca.manager.nodeId, raftId: 1n, signal: term.signal })
    }
    let closed = false
    const close = async (): Promise<void> => {
      if (closed) return
      closed = true
      term.abort()
      await signer?.stop()
      await node.close()
    }
    this.#closers.push(close)
    return { ca, store, address: node.address, tls, server: node.server, calls, close }
  }

  /**
   * A follower of `leader`: the CA service over a copy of the leader's store whose writes fail
   * with NotLeaderError naming the leader's address, and no signer. Its TLS identity is the
   * leader's (a manager certificate of the same cluster).
   */
  async follower(leader: CaManager): Promise<CaManager> {
    const store = new MemoryStore({ proposer: { propose: () => Promise.reject(new NotLeaderError({ leaderAddr: leader.address })) } })
    store.restore(leader.store.snapshot())
    const tls = new TlsMaterialSource(leader.ca.manager.material)
    const { node, calls } = await serveCa(store, tls)
    const close = (): Promise<void> => node.close()
    this.#closers.push(close)
    return { ca: leader.ca, store, address: node.address, tls, server: node.server, calls, close }
  }

  /** Registers a clean-up step. */
  add(close: () => Promise<void>): void {
    this.#closers.push(close)
  }

  async cleanup(): Promise<void> {
    for (const c of this.#closers.splice(0).reverse()) await c()
  }
}
