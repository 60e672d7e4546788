/**
 * `Cluster`: the entry point of an embedder — `init` a new cluster, `join` one with a token, or
 * `open` a node again from its state directory. Each returns a running node: a
 * {@link ManagerCluster} (with the control handles) or a {@link WorkerCluster} (none), told apart
 * by `role`.
 *
 * @module
 */
import { access, rm } from 'node:fs/promises'
import { AlreadyExistsError, FailedPreconditionError } from '@swarmkit-ts/api'
import { generateUnlockKey, ManagerKeyStore } from '@swarmkit-ts/pki'
import { bootstrapClusterCA, caSigner, requestNodeCertificate, rootRotationReconciler } from '../ca/index.ts'
import { NodeCertificateStore, nodeCertificatePaths } from '../certs/index.ts'
import { LogBrokerComponent } from '../logs/index.ts'
import { ManagerNode, managerStatePaths, type ManagerNodeInit } from '../manager/index.ts'
import { ManagerCluster } from './manager-cluster.ts'
import { clusterNodeStatePath, readClusterNodeState, writeClusterNodeState } from './node-state.ts'
import { checkInitOptions, checkJoinOptions, checkOpenOptions, type ClusterInitOptions, type ClusterJoinOptions, type ClusterNodeOptions, type ClusterOpenOptions } from './options.ts'
import { WorkerCluster } from './worker-cluster.ts'

/** SwarmKit's Raft timing, ManagerNode's defaults: 1 s ticks, an election after 10 ticks. */
const DEFAULT_TICK_MS = 1000
const DEFAULT_ELECTION_TICK = 10

/** A running node of a cluster: a manager (control handles) or a worker (none); `role` tells which. */
export type ClusterNode = ManagerCluster | WorkerCluster

async function refuseExisting(stateDir: string): Promise<void> {
  const exists = await access(clusterNodeStatePath(stateDir)).then(
    () => true,
    () => false,
  )
  if (exists) throw new AlreadyExistsError('cluster node', stateDir, { message: `${stateDir} already holds a node of a cluster: use Cluster.open` })
}

/** What a manager of these options takes besides its identity and addresses. */
function managerInit(options: ClusterNodeOptions, logBroker: LogBrokerComponent): Pick<ManagerNodeInit, 'leaderComponents' | 'raft' | 'heartbeatPeriodMs' | 'logger'> {
  return {
    leaderComponents: [caSigner(), rootRotationReconciler(), logBroker],
    ...(options.raft === undefined ? {} : { raft: options.raft }),
    ...(options.heartbeatPeriodMs === undefined ? {} : { heartbeatPeriodMs: options.heartbeatPeriodMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  }
}

/**
 * Starts the cluster handles of a started manager, once it knows a leader and has applied what
 * was committed (or after two election
 * timeouts: a manager restarted without a quorum still opens, its control calls answering
 * `NotLeaderError` until one is elected); closes the manager when they fail to start.
 */
async function managerCluster(manager: ManagerNode, certificates: NodeCertificateStore, logBroker: LogBrokerComponent, options: ClusterNodeOptions): Promise<ManagerCluster> {
  try {
    const electionMs = (options.raft?.tickMs ?? DEFAULT_TICK_MS) * (options.raft?.electionTick ?? DEFAULT_ELECTION_TICK)
    const signal = AbortSignal.timeout(2 * electionMs)
    const raft = manager.replicated.raft
    // Then the local store holds every write committed so far (reads of progress and events start there).
    await raft
      .waitForLeader({ signal })
      .then(() => raft.linearizableRead({ signal }))
      .catch(() => undefined)
    return await ManagerCluster.start({ manager, certificates, logBroker, options })
  } catch (err) {
    await manager.close()
    throw err
  }
}

/**
 * A manager's certificate store whose key lives in its `ManagerKeyStore` (sealed with autolock),
 * not in `certificates/swarm-node.key`.
 */
function managerCertificates(stateDir: string, keys: ManagerKeyStore): NodeCertificateStore {
  return new NodeCertificateStore({ stateDir, keyStorage: { load: () => Promise.resolve(keys.tlsKeyPem), save: (k) => keys.setTlsKey(k) } })
}

/** Creates, joins and reopens cluster nodes. Not constructed: use its static methods. */
export class Cluster {
  private constructor() {}

  /**
   * Creates a new cluster of which this node is the first manager (and runs tasks): the root CA
   * and join tokens, the node certificate, Raft, the store, every gRPC service on `listenAddr`,
   * and the local control socket `<stateDir>/control.sock`.
   *
   * @throws InvalidArgumentError naming a bad option; AlreadyExistsError when `stateDir` holds a node.
   */
  static async init(options: ClusterInitOptions): Promise<ManagerCluster> {
    checkInitOptions(options)
    await refuseExisting(options.stateDir)
    const ca = await bootstrapClusterCA()
    const unlockKey = options.autolock === true ? generateUnlockKey() : undefined
    const keyPem = ca.manager.material.keyPem
    // The key is kept by the manager's key store (created by ManagerNode.init from the TLS material).
    const certificates = new NodeCertificateStore({ stateDir: options.stateDir, keyStorage: { load: () => Promise.resolve(keyPem), save: () => Promise.resolve() } })
    await certificates.save(ca.manager.material)
    const logBroker = new LogBrokerComponent()
    const manager = await ManagerNode.init({
      stateDir: options.stateDir,
      listenAddress: options.listenAddr,
      advertiseAddress: options.advertiseAddr,
      tls: certificates.tlsSource(),
      unlockKey,
      clusterSpec: options.clusterSpec,
      rootCa: ca.rootCa,
      nodeCertificate: ca.manager.certificate,
      ...managerInit(options, logBroker),
    })
    await writeClusterNodeState(options.stateDir, { role: 'manager', listenAddr: manager.server.address, ...(options.advertiseAddr === undefined ? {} : { advertiseAddr: options.advertiseAddr }), managers: [] }).catch(async (err: unknown) => {
      await manager.close()
      throw err
    })
    return managerCluster(manager, certificates, logBroker, options)
  }

  /**
   * Joins the cluster a manager at `joinAddr` belongs to: obtains a node certificate for the
   * token (the token's digest pins the root CA before anything is sent), then starts as a manager
   * (Raft member, services, control socket, tasks) or a worker, as the token says.
   *
   * @throws InvalidArgumentError (`token` malformed, or a bad option); PermissionDeniedError (a
   *   wrong token, or another cluster's: message starts with `token:`); UnavailableError;
   *   AlreadyExistsError when `stateDir` holds a node.
   */
  static async join(options: ClusterJoinOptions): Promise<ClusterNode> {
    checkJoinOptions(options)
    await refuseExisting(options.stateDir)
    const certificates = new NodeCertificateStore({ stateDir: options.stateDir })
    const joined = await requestNodeCertificate({ joinAddr: options.joinAddr, token: options.token, certificates, ...(options.signal === undefined ? {} : { signal: options.signal }) })
    if (joined.identity.role === 'worker') {
      await writeClusterNodeState(options.stateDir, { role: 'worker', managers: [options.joinAddr] })
      return WorkerCluster.start({ certificates, managers: [options.joinAddr], options })
    }
    const logBroker = new LogBrokerComponent()
    const manager = await ManagerNode.join({
      stateDir: options.stateDir,
      listenAddress: options.listenAddr ?? '127.0.0.1:0',
      advertiseAddress: options.advertiseAddr,
      tls: certificates.tlsSource(),
      joinAddress: options.joinAddr,
      ...managerInit(options, logBroker),
    })
    try {
      await writeClusterNodeState(options.stateDir, { role: 'manager', listenAddr: manager.server.address, ...(options.advertiseAddr === undefined ? {} : { advertiseAddr: options.advertiseAddr }), managers: [] })
      // From now on the key lives in the manager's key store (sealed once the cluster autolocks).
      await rm(nodeCertificatePaths(options.stateDir).key, { force: true })
    } catch (err) {
      await manager.close()
      throw err
    }
    return managerCluster(manager, certificates, logBroker, options)
  }

  /**
   * Restarts the node whose state directory is `stateDir`, as the role it had. A manager listens
   * on the address it had (unless given another, which the Raft group then records).
   *
   * @throws NotFoundError when `stateDir` holds no node; ClusterLockedError when the manager is
   *   autolocked and `unlockKey` is missing or wrong; InvalidArgumentError naming a bad option.
   */
  static async open(options: ClusterOpenOptions): Promise<ClusterNode> {
    checkOpenOptions(options)
    const state = await readClusterNodeState(options.stateDir)
    if (state.role === 'worker') {
      const certificates = new NodeCertificateStore({ stateDir: options.stateDir })
      await certificates.load()
      return WorkerCluster.start({ certificates, managers: state.managers, options })
    }
    const keys = await ManagerKeyStore.open(managerStatePaths(options.stateDir).keys, { unlockKey: options.unlockKey })
    const certificates = managerCertificates(options.stateDir, keys)
    await certificates.load()
    const listenAddress = options.listenAddr ?? state.listenAddr
    if (listenAddress === undefined) throw new FailedPreconditionError(`${clusterNodeStatePath(options.stateDir)} records no listen address: give listenAddr`, { reason: 'damaged-state' })
    const advertiseAddress = options.advertiseAddr ?? state.advertiseAddr
    const logBroker = new LogBrokerComponent()
    const manager = await ManagerNode.open({
      stateDir: options.stateDir,
      listenAddress,
      advertiseAddress,
      tls: certificates.tlsSource(),
      unlockKey: options.unlockKey,
      ...managerInit(options, logBroker),
    })
    if (manager.server.address !== state.listenAddr || advertiseAddress !== state.advertiseAddr) {
      await writeClusterNodeState(options.stateDir, { ...state, listenAddr: manager.server.address, ...(advertiseAddress === undefined ? {} : { advertiseAddr: advertiseAddress }) }).catch(async (err: unknown) => {
        await manager.close()
        throw err
      })
    }
    return managerCluster(manager, certificates, logBroker, options)
  }
}
