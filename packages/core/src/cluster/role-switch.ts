/**
 * Role changes of a running node (SwarmKit's node supervising its manager): a promoted worker
 * starts a manager beside its running tasks, a demoted manager goes on as a worker. Each switch
 * moves the TLS key (a manager's lives only in its key store), and commits by writing
 * `cluster-node.json`; `Cluster.open` finishes a switch a crash interrupted:
 *
 * - promotion: the manager joins the Raft group (or reopens the member an interrupted attempt
 *   joined), its key goes to `manager-keys.json`, `cluster-node.json` says manager (commit),
 *   then `certificates/swarm-node.key` is removed. Before the commit the node opens as a worker
 *   holding a manager certificate, and promotes itself again.
 * - demotion (after the leader removed the Raft member and the CA issued a worker certificate):
 *   the manager parts stop, the key goes to `swarm-node.key`, `cluster-node.json` says worker
 *   (commit), then the Raft state and the manager keys are deleted. Before the commit the node
 *   opens as a manager holding a worker certificate, and `Cluster.open` finishes the demotion.
 *
 * @module
 */
import { access, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { UnavailableError, silentLogger } from '@swarmkit-ts/api'
import { caSigner, rootRotationReconciler } from '../ca/index.ts'
import type { NodeCertificateStore } from '../certs/index.ts'
import { LogBrokerComponent } from '../logs/index.ts'
import { ManagerNode, managerStatePaths, type ManagerNodeInit } from '../manager/index.ts'
import { hasManagerState } from '../manager/state-dir.ts'
import { ManagerCluster } from './manager-cluster.ts'
import { CONTROL_SOCKET_FILE } from './manager-parts.ts'
import { removeKeyFile, type ManagerKeyStorage } from './key-storage.ts'
import { writeClusterNodeState } from './node-state.ts'
import type { ClusterNodeOptions } from './options.ts'
import type { Demotion, Promotion, RoleSwitcher } from './role-events.ts'
import { WorkerCluster } from './worker-cluster.ts'
import type { WorkerHalf } from './worker-half.ts'

/** SwarmKit's Raft timing, ManagerNode's defaults: 1 s ticks, an election after 10 ticks. */
const DEFAULT_TICK_MS = 1000
const DEFAULT_ELECTION_TICK = 10

/** What a manager of these options takes besides its identity and addresses. */
export function managerInit(options: ClusterNodeOptions, logBroker: LogBrokerComponent): Pick<ManagerNodeInit, 'leaderComponents' | 'raft' | 'heartbeatPeriodMs' | 'logger'> {
  return {
    leaderComponents: [caSigner(), rootRotationReconciler(), logBroker],
    ...(options.raft === undefined ? {} : { raft: options.raft }),
    ...(options.heartbeatPeriodMs === undefined ? {} : { heartbeatPeriodMs: options.heartbeatPeriodMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  }
}

/** What {@link startManagerCluster} starts the handles from. */
export interface ManagerStart {
  readonly certificates: NodeCertificateStore
  readonly keyStorage: ManagerKeyStorage
  readonly logBroker: LogBrokerComponent
  readonly options: ClusterNodeOptions
  /** A promoted worker's running half. */
  readonly half?: WorkerHalf | undefined
}

/**
 * Starts the cluster handles of a started manager, once it knows a leader and has applied what
 * was committed (or after two election timeouts: a manager restarted without a quorum still
 * opens, its control calls answering `NotLeaderError` until one is elected); closes the manager
 * when they fail to start.
 */
export async function startManagerCluster(manager: ManagerNode, start: ManagerStart): Promise<ManagerCluster> {
  const { options } = start
  try {
    const electionMs = (options.raft?.tickMs ?? DEFAULT_TICK_MS) * (options.raft?.electionTick ?? DEFAULT_ELECTION_TICK)
    const signal = AbortSignal.timeout(2 * electionMs)
    const raft = manager.replicated.raft
    // Then the local store holds every write committed so far (reads of progress and events start there).
    await raft
      .waitForLeader({ signal })
      .then(() => raft.linearizableRead({ signal }))
      .catch(() => undefined)
    return await ManagerCluster.start({ manager, ...start, roles: clusterRoles })
  } catch (err) {
    await manager.close()
    throw err
  }
}

/** Deletes a manager's state: its identity, keys, Raft log and snapshots, control socket. */
export async function removeManagerState(stateDir: string): Promise<void> {
  const paths = managerStatePaths(stateDir)
  await rm(paths.raft, { recursive: true, force: true })
  await rm(paths.keys, { force: true })
  await rm(paths.identity, { force: true })
  await rm(join(stateDir, CONTROL_SOCKET_FILE), { force: true })
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  )

/** See {@link RoleSwitcher.toManager}. */
async function toManager(p: Promotion): Promise<ManagerCluster> {
  const { certificates, keyStorage, options } = p
  const { stateDir } = options
  const logger = options.logger ?? silentLogger
  const current = certificates.current
  if (current === undefined) throw new UnavailableError('the node certificate is not loaded')
  const paths = managerStatePaths(stateDir)
  const logBroker = new LogBrokerComponent()
  const init = { stateDir, listenAddress: p.listenAddr, advertiseAddress: p.advertiseAddr, tls: certificates.tlsSource(), ...managerInit(options, logBroker) }
  let manager: ManagerNode
  if ((await hasManagerState(paths)) && (await exists(paths.keys))) {
    manager = await ManagerNode.open(init) // an interrupted promotion joined the Raft group already
  } else {
    await removeManagerState(stateDir)
    manager = await ManagerNode.join({ ...init, joinAddress: p.joinAddress })
  }
  // Before anything else: a member must come back on the address the group recorded (with two
  // managers, the other cannot elect a leader to learn a new one).
  const bound = manager.server.address
  await writeClusterNodeState(stateDir, { role: 'worker', listenAddr: bound, ...(p.advertiseAddr === undefined ? {} : { advertiseAddr: p.advertiseAddr }), managers: [p.joinAddress] }).catch((err: unknown) =>
    logger.warn('cluster: recording the new manager address failed', { err: String(err) }),
  )
  keyStorage.attach(manager)
  let node: ManagerCluster
  try {
    await keyStorage.save(current.keyPem) // the key store holds the certificate's key (a reopened one may hold an older one)
    node = await startManagerCluster(manager, { certificates, keyStorage, logBroker, options, half: p.half })
  } catch (err) {
    await manager.close()
    keyStorage.useFile(stateDir)
    throw err
  }
  // The commit: from here on the state directory opens as a manager.
  const listenAddr = manager.server.address
  const advertised = manager.server.advertiseAddress
  await writeClusterNodeState(stateDir, { role: 'manager', listenAddr, ...(advertised === listenAddr ? {} : { advertiseAddr: advertised }), managers: [] }).catch((err: unknown) =>
    logger.warn('cluster: recording the promotion failed (the node opens as a worker and promotes itself again)', { err: String(err) }),
  )
  await removeKeyFile(stateDir).catch((err: unknown) => logger.warn('cluster: removing the worker key file failed', { err: String(err) }))
  return node
}

/** See {@link RoleSwitcher.toWorker}. */
async function toWorker(d: Demotion): Promise<WorkerCluster> {
  const { certificates, keyStorage, options } = d
  const { stateDir } = options
  const current = certificates.current
  if (current === undefined) throw new UnavailableError('the node certificate is not loaded')
  keyStorage.useFile(stateDir)
  await keyStorage.save(current.keyPem)
  // The commit: from here on the state directory opens as a worker.
  await writeClusterNodeState(stateDir, {
    role: 'worker',
    managers: d.managers,
    ...(d.listenAddr === undefined ? {} : { listenAddr: d.listenAddr }),
    ...(d.advertiseAddr === undefined ? {} : { advertiseAddr: d.advertiseAddr }),
  })
  await removeManagerState(stateDir)
  return WorkerCluster.start({ certificates, keyStorage, options, roles: d.roles, managers: d.managers, half: d.half, listenAddr: d.listenAddr, advertiseAddr: d.advertiseAddr })
}

/** The role switches `Cluster` gives every node. */
export const clusterRoles: RoleSwitcher = { toManager, toWorker }
