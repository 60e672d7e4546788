import type { ServerCredentials} from '@grpc/grpc-js';
import { Server, type ChannelCredentials } from '@grpc/grpc-js'
import type { NodeRole } from '@swarmkit-ts/api'
import { RootCA, authorize, createCsr, credentials, generateNodeKey, type TlsMaterial } from '@swarmkit-ts/pki'
import { afterEach, beforeAll } from 'vitest'
import type { ControlApi } from '../../src/control/control-api.ts'
import { ControlClient } from '../../src/control/control-client.ts'
import { addControlService, type ControlCallContext } from '../../src/control/control-service.ts'

export const CLUSTER_ID = 'clusterc'

/** A node's TLS material, issued by `ca`. */
export async function nodeMaterial(ca: RootCA, nodeId: string, role: NodeRole, clusterId = CLUSTER_ID): Promise<TlsMaterial> {
  const key = await generateNodeKey()
  const cert = await ca.issue(await createCsr(key), { nodeId, role, clusterId })
  return { keyPem: key.keyPem, certChainPem: cert.chainPem, trustBundlePem: ca.certPem }
}

/** A grpc-js server on 127.0.0.1:0 over mTLS serving `control()` to manager certificates of CLUSTER_ID. */
export interface ControlServer {
  readonly server: Server
  readonly address: string
  close(): Promise<void>
}

export async function startControlServer(material: TlsMaterial, control: (context: ControlCallContext) => ControlApi): Promise<ControlServer> {
  const server = new Server()
  addControlService(server, { control, authorize: (call) => void authorize(call, ['manager'], { clusterId: CLUSTER_ID }) })
  const port = await bind(server, '127.0.0.1:0', credentials.forServer(material))
  return {
    server,
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  }
}

export function bind(server: Server, address: string, creds: ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, creds, (err, port) => (err === null ? resolve(port) : reject(err)))
  })
}

/** A ControlClient presenting `material` to a manager. */
export function clientFor(address: string, material: TlsMaterial): ControlClient {
  const creds: ChannelCredentials = credentials.forClient(material, { clusterId: CLUSTER_ID })
  return new ControlClient({ address, credentials: creds, channelOptions: credentials.channelOptions('manager') })
}

/** The TLS material of a leader, a follower and a user (all manager certificates of one CA), and what a test started. */
export interface TwoManagers {
  leaderMaterial: TlsMaterial
  followerMaterial: TlsMaterial
  userMaterial: TlsMaterial
  /** Servers closed after each test. */
  readonly servers: ControlServer[]
  /** Clients and forwarders closed after each test (before the servers). */
  readonly closers: { close(): void }[]
}

/**
 * Registers the hooks of a leader-and-follower suite: one CA and three manager certificates
 * (mgr1 the leader's, mgr2 the follower's, mgr3 the user's) issued before all tests, and
 * everything pushed to `servers` and `closers` closed after each. Call it inside `describe`.
 */
export function twoManagers(): TwoManagers {
  const state = { servers: [], closers: [] } as unknown as TwoManagers
  beforeAll(async () => {
    const ca = await RootCA.create()
    state.leaderMaterial = await nodeMaterial(ca, 'mgr1', 'manager')
    state.followerMaterial = await nodeMaterial(ca, 'mgr2', 'manager')
    state.userMaterial = await nodeMaterial(ca, 'mgr3', 'manager')
  })
  afterEach(async () => {
    for (const c of state.closers.splice(0)) c.close()
    for (const s of state.servers.splice(0)) await s.close()
  })
  return state
}
