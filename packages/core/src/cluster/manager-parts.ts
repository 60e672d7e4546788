/**
 * What runs beside a `ManagerNode` in a {@link ManagerCluster}: the CA, control, dispatcher and
 * logs services on its gRPC server, the local control socket, the certificate renewal, and the
 * task-running {@link WorkerHalf} (its own, or a promoted worker's, taken over running).
 *
 * @module
 */
import { join } from 'node:path'
import { UnavailableError, cryptoRandom, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Logger } from '@swarmkit-ts/api'
import { credentials } from '@swarmkit-ts/pki'
import { addCaService, clusterAuthorizer, followNodeCertificate, NodeCertificateRenewal } from '../ca/index.ts'
import type { NodeCertificateStore } from '../certs/index.ts'
import { addControlService, ControlClient, LeaderForwardingControl, serveControlSocket, StoreControlApi } from '../control/index.ts'
import { readyLeaderControl } from './leader-ready.ts'
import type { ControlApi, ControlSocket } from '../control/index.ts'
import { addDispatcherService, type DispatcherService } from '../dispatcher/index.ts'
import { addLogsService, type LogBrokerComponent, type LogsService } from '../logs/index.ts'
import type { ManagerNode } from '../manager/index.ts'
import { hostOf, type ClusterNodeOptions } from './options.ts'
import { WorkerHalf } from './worker-half.ts'

/** The control socket's file name in a manager's state directory. */
export const CONTROL_SOCKET_FILE = 'control.sock'

/** What {@link assembleManager} needs. */
export interface ManagerAssembly {
  readonly manager: ManagerNode
  readonly certificates: NodeCertificateStore
  readonly logBroker: LogBrokerComponent
  readonly options: ClusterNodeOptions
  /** A promoted worker's running half; without it the manager starts its own. */
  readonly half?: WorkerHalf | undefined
  /** A manager to renew the certificate with ahead of the leader (a removed member asks another manager). */
  readonly renewVia: () => string | undefined
}

/** What runs beside the manager node. */
export interface AssembledManager {
  /** From now on every handle call fails with `UnavailableError` saying `why`. */
  readonly markClosed: (why: string) => void
  readonly control: LeaderForwardingControl
  readonly socket: ControlSocket
  readonly logsService: LogsService
  readonly dispatcherService: DispatcherService
  readonly half: WorkerHalf
  readonly renewal: NodeCertificateRenewal
  readonly follow: AbortController
  readonly following: Promise<void>
  readonly logger: Logger
  /** New mTLS client credentials of this node (its certificate store's TLS source). */
  readonly clientCredentials: () => ReturnType<typeof credentials.forClient>
}

/** Registers the services on the manager's server, then starts the socket, the worker half (unless given) and the renewal. */
export async function assembleManager(parts: ManagerAssembly): Promise<AssembledManager> {
  const { manager, certificates, logBroker, options } = parts
  const logger = options.logger ?? silentLogger
  const server = manager.server.server
  const store = manager.store
  const tls = certificates.tlsSource()
  const clientCredentials = (): ReturnType<typeof credentials.forClient> => credentials.forClient(tls, { clusterId: manager.clusterId })
  const authorizer = clusterAuthorizer(store, { clusterId: manager.clusterId })
  const leaderAddress = (): string | undefined => manager.leaderAddress()

  // A new leader serves control calls only once its store holds what earlier terms committed: its
  // leader loops start after that read (see leader-ready.ts).
  const local = readyLeaderControl(new StoreControlApi({ store, clock: systemClock, random: cryptoRandom, membership: manager.membershipHooks(), keys: manager.keyHooks() }), () =>
    manager.leaderLoopsRunning ? undefined : manager.replicated.raft.linearizableRead(),
  )
  let closed: string | undefined
  const control = new LeaderForwardingControl({
    local: () => {
      if (closed !== undefined) throw new UnavailableError(closed)
      return manager.isLeader ? local : undefined
    },
    leaderAddress,
    connect: (address) => new ControlClient({ address, credentials: clientCredentials(), channelOptions: credentials.channelOptions(), forwarded: true }),
  })
  const answer = (ctx: { forwarded: boolean }): ControlApi => (ctx.forwarded ? control.direct() : control)
  addCaService(server, { store, logger })
  addControlService(server, { control: answer, authorize: (call) => void authorizer(call, ['manager']), nodeId: manager.nodeId })
  const dispatcherService = addDispatcherService(server, { dispatcher: () => manager.dispatcher(), authorize: (call) => authorizer(call, ['worker', 'manager']), leaderAddress, logger })
  const logsService = addLogsService(server, { broker: () => logBroker.current(), authorize: authorizer, leaderAddress, logger })
  // The socket also serves logs, subscribed through the worker half's client of the leader's broker.
  const socket = await serveControlSocket(join(manager.stateDir, CONTROL_SOCKET_FILE), answer, { logs: () => half.logsClient, nodeId: manager.nodeId })

  const half = parts.half ?? new WorkerHalf({ certificates, joinAddress: manager.server.advertiseAddress, nodeAddress: options.nodeAddress ?? ipOr(hostOf(manager.server.advertiseAddress)), options, logger })
  half.useStore(store)
  half.useManagers(() => {
    const leader = leaderAddress()
    return [...(leader === undefined ? [] : [leader]), ...manager.members().map((m) => m.addr)]
  })
  const renewal = new NodeCertificateRenewal({ certificates, managerAddress: () => parts.renewVia() ?? leaderAddress() ?? manager.server.advertiseAddress, logger })
  const follow = new AbortController()
  const assembled: AssembledManager = {
    markClosed: (why) => {
      closed = why
    },
    control,
    socket,
    logsService,
    dispatcherService,
    half,
    renewal,
    follow,
    following: Promise.resolve(),
    logger,
    clientCredentials,
  }
  if (parts.half === undefined) {
    try {
      await half.start()
    } catch (err) {
      await closeManagerParts(assembled, 'this node is closed')
      throw err
    }
  }
  renewal.start()
  const following = followNodeCertificate({ store, nodeId: manager.nodeId, certificates, renewal, signal: follow.signal }).catch((err: unknown) => {
    logger.warn('cluster: following the node certificate failed', { err: String(err) })
  })
  return { ...assembled, following }
}

/** Stops what {@link assembleManager} started but the worker half, in reverse; every part is tried. Idempotent. */
export async function closeManagerParts(a: AssembledManager, why: string): Promise<void> {
  const attempt = async (what: string, op: () => Promise<void> | void): Promise<void> => {
    try {
      await op()
    } catch (err) {
      a.logger.warn(`cluster: closing ${what} failed`, { err: String(err) })
    }
  }
  a.markClosed(why)
  a.follow.abort()
  await attempt('the renewal', () => a.renewal.stop())
  await a.following
  await attempt('the control socket', () => a.socket.close())
  await attempt('the control forwarding', () => a.control.close())
  a.logsService.closeAll()
  a.dispatcherService.closeAll()
}

/** `host` when it is an IP address, else 127.0.0.1 (a node address must be an IP). */
export function ipOr(host: string): string {
  return /^[\d.]+$/.test(host) || host.includes(':') ? host : '127.0.0.1'
}
