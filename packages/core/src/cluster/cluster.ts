/**
 * `Cluster`: the entry point of an embedder — `init` a new cluster, `join` one with a token, or
 * `open` a node again from its state directory. Each returns a running node: a
 * {@link ManagerCluster} (with the control handles) or a {@link WorkerCluster} (none), told apart
 * by `role`.
 *
 * @module
 */
import { access } from 'node:fs/promises'
import { AlreadyExistsError, FailedPreconditionError } from '@swarmkit-ts/api'
import { generateUnlockKey, ManagerKeyStore } from '@swarmkit-ts/pki'
import { bootstrapClusterCA, caSigner, requestNodeCertificate, rootRotationReconciler } from '../ca/index.ts'
import { NodeCertificateStore, type NodeKeyStorage } from '../certs/index.ts'
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
 * The key storage of a manager's certificate store: until the manager runs, the key is held in
 * memory (init, join) or read from a key file opened for that (open); then it is the manager's
 * own key store ({@link ManagerNode.tlsKeyStorage}), so a renewal's key lands in the one
 * `manager-keys.json` writer and is never written in clear to `certificates/swarm-node.key`.
 */
export class ManagerKeyStorage implements NodeKeyStorage {
  #target: NodeKeyStorage

  constructor(initial: NodeKeyStorage) {
    this.#target = initial
  }

  /** A storage holding the key in memory only. */
  static inMemory(keyPem?: string): ManagerKeyStorage {
    let key = keyPem
    return new ManagerKeyStorage({
      load: () => Promise.resolve(key),
      save: (k) => {
        key = k
        return Promise.resolve()
      },
    })
  }

  /** From now on keeps the key in `manager`'s key store. */
  attach(manager: ManagerNode): void {
    this.#target = manager.tlsKeyStorage()
  }

  /** See {@link NodeKeyStorage.load}. */
  load(): Promise<string | undefined> {
    return this.#target.load()
  }

  /** See {@link NodeKeyStorage.save}. */
  save(keyPem: string): Promise<void> {
    return this.#target.save(keyPem)
  }
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
    // The key goes to the manager's key store (created by ManagerNode.init from the TLS material).
    const keyStorage = ManagerKeyStorage.inMemory()
    const certificates = new NodeCertificateStore({ stateDir: options.stateDir, keyStorage })
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
    keyStorage.attach(manager)
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
    // A manager's key must never reach the disk in clear: held in memory until its key store exists.
    const keyStorage = ManagerKeyStorage.inMemory()
    const certificates = new NodeCertificateStore({ stateDir: options.stateDir, keyStorage })
    const joined = await requestNodeCertificate({ joinAddr: options.joinAddr, token: options.token, certificates, ...(options.signal === undefined ? {} : { signal: options.signal }) })
    if (joined.identity.role === 'worker') {
      const workerCertificates = new NodeCertificateStore({ stateDir: options.stateDir })
      await workerCertificates.save(joined.material)
      await writeClusterNodeState(options.stateDir, { role: 'worker', managers: [options.joinAddr] })
      return WorkerCluster.start({ certificates: workerCertificates, managers: [options.joinAddr], options })
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
    keyStorage.attach(manager)
    try {
      await writeClusterNodeState(options.stateDir, { role: 'manager', listenAddr: manager.server.address, ...(options.advertiseAddr === undefined ? {} : { advertiseAddr: options.advertiseAddr }), managers: [] })
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
    // Read the key once (ClusterLockedError before anything binds); the manager's own key store keeps it after.
    const keys = await ManagerKeyStore.open(managerStatePaths(options.stateDir).keys, { unlockKey: options.unlockKey })
    const keyStorage = ManagerKeyStorage.inMemory(keys.tlsKeyPem)
    const certificates = new NodeCertificateStore({ stateDir: options.stateDir, keyStorage })
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
    keyStorage.attach(manager)
    if (manager.server.address !== state.listenAddr || advertiseAddress !== state.advertiseAddr) {
      await writeClusterNodeState(options.stateDir, { ...state, listenAddr: manager.server.address, ...(advertiseAddress === undefined ? {} : { advertiseAddr: advertiseAddress }) }).catch(async (err: unknown) => {
        await manager.close()
        throw err
      })
    }
    return managerCluster(manager, certificates, logBroker, options)
  }
}
