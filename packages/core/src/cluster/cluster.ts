/**
 * `Cluster`: the entry point of an embedder — `init` a new cluster, `join` one with a token, or
 * `open` a node again from its state directory. Each returns a running node: a
 * {@link ManagerCluster} (with the control handles) or a {@link WorkerCluster} (none), told apart
 * by `role`.
 *
 * @module
 */
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { AlreadyExistsError, ClusterLockedError, FailedPreconditionError, NotFoundError } from '@swarmkit-ts/api'
import { generateUnlockKey, ManagerKeyStore } from '@swarmkit-ts/pki'
import { bootstrapClusterCA, requestNodeCertificate } from '../ca/index.ts'
import { NodeCertificateStore } from '../certs/index.ts'
import { LogBrokerComponent } from '../logs/index.ts'
import { localAddressToward } from '../net/local-address.ts'
import { ManagerNode, managerStatePaths } from '../manager/index.ts'
import { ManagerKeyStorage, removeKeyFile } from './key-storage.ts'
import { CONTROL_SOCKET_FILE } from './manager-parts.ts'
import { waitForUnlock } from './unlock.ts'
import type { ManagerCluster } from './manager-cluster.ts'
import { clusterNodeStatePath, readClusterNodeState, writeClusterNodeState } from './node-state.ts'
import { checkInitOptions, checkJoinOptions, checkOpenOptions, type ClusterInitOptions, type ClusterJoinOptions, type ClusterOpenOptions } from './options.ts'
import type { ClusterNode } from './role-events.ts'
import { clusterRoles, managerInit, removeManagerState, startManagerCluster } from './role-switch.ts'
import { WorkerCluster } from './worker-cluster.ts'
import type { SimulateOptions, SimulatedCluster } from '../simulate/index.ts'

export { ManagerKeyStorage } from './key-storage.ts'
export type { ClusterNode } from './role-events.ts'

async function refuseExisting(stateDir: string): Promise<void> {
  const exists = await access(clusterNodeStatePath(stateDir)).then(
    () => true,
    () => false,
  )
  if (exists) throw new AlreadyExistsError('cluster node', stateDir, { message: `${stateDir} already holds a node of a cluster: use Cluster.open` })
}

/** Creates, joins and reopens cluster nodes. Not constructed: use its static methods. */
export class Cluster {
  private constructor() {}

  /**
   * Simulates a whole cluster in this process on a virtual clock, seeded and replayable: managers
   * with Raft over an in-memory network, the leader's loops, workers with agents on `FakeRuntime`
   * — behind the same handles as a manager (`services`, `tasks`, `nodes`, …), plus virtual time
   * (`advance`, `runUntil`) and faults (`partition`, `crash`, `failTask`, `slowDisk`). The same
   * as `simulateCluster` from `@swarmkit-ts/core/testing` (loaded on first use).
   *
   * @throws InvalidArgumentError naming a bad option.
   */
  static async simulate(options?: SimulateOptions): Promise<SimulatedCluster> {
    const { simulateCluster } = await import('../simulate/index.ts')
    return simulateCluster(options)
  }

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
    return startManagerCluster(manager, { certificates, keyStorage, logBroker, options })
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
      const workerKeys = ManagerKeyStorage.inFile(options.stateDir)
      const workerCertificates = new NodeCertificateStore({ stateDir: options.stateDir, keyStorage: workerKeys })
      await workerCertificates.save(joined.material)
      // The addresses to listen on and advertise once promoted.
      const addresses = { ...(options.listenAddr === undefined ? {} : { listenAddr: options.listenAddr }), ...(options.advertiseAddr === undefined ? {} : { advertiseAddr: options.advertiseAddr }) }
      await writeClusterNodeState(options.stateDir, { role: 'worker', managers: [options.joinAddr], ...addresses })
      return WorkerCluster.start({ certificates: workerCertificates, keyStorage: workerKeys, roles: clusterRoles, managers: [options.joinAddr], options, ...addresses })
    }
    const logBroker = new LogBrokerComponent()
    const manager = await ManagerNode.join({
      stateDir: options.stateDir,
      // Not 127.0.0.1: the other managers must reach it. The address this host reaches the join address from.
      listenAddress: options.listenAddr ?? `${bracketedIp(await localAddressToward(options.joinAddr, 'joinAddr'))}:0`,
      advertiseAddress: options.advertiseAddr,
      tls: certificates.tlsSource(),
      joinAddress: options.joinAddr,
      ...managerInit(options, logBroker),
    })
    keyStorage.attach(manager)
    try {
      await writeClusterNodeState(options.stateDir, { role: 'manager', listenAddr: manager.server.address, ...(options.advertiseAddr === undefined ? {} : { advertiseAddr: options.advertiseAddr }), managers: [options.joinAddr] })
    } catch (err) {
      await manager.close()
      throw err
    }
    return startManagerCluster(manager, { certificates, keyStorage, logBroker, options })
  }

  /**
   * Restarts the node whose state directory is `stateDir`, as the role it had. A manager listens
   * on the address it had (unless given another, which the Raft group then records). A role
   * change a crash interrupted converges: a manager already holding a worker certificate
   * finishes its demotion and opens as a worker; a worker holding a manager certificate opens as
   * a worker and promotes itself again (see the `role` event).
   *
   * With `forceNewCluster`, a manager starts as the only member of a new Raft group with
   * everything its state directory holds (a backup, or the survivor of a quorum loss).
   *
   * @throws NotFoundError when `stateDir` holds no node; ClusterLockedError when the manager is
   *   autolocked and `unlockKey` is missing or wrong; InvalidArgumentError naming a bad option;
   *   FailedPreconditionError (reason `not-a-manager`, message starting `forceNewCluster:`) when
   *   forcing a new cluster from a worker's state directory.
   */
  static async open(options: ClusterOpenOptions): Promise<ClusterNode> {
    checkOpenOptions(options)
    const force = options.forceNewCluster === true
    const state = await readClusterNodeState(options.stateDir).catch((err: unknown) => {
      if (force && err instanceof NotFoundError) throw new NotFoundError('cluster node state', options.stateDir, { message: `forceNewCluster: ${options.stateDir} holds no node to restore a cluster from`, cause: err })
      throw err
    })
    if (force && state.role === 'worker') throw notAManager(options.stateDir)
    if (state.role === 'worker') {
      const keyStorage = ManagerKeyStorage.inFile(options.stateDir)
      const certificates = new NodeCertificateStore({ stateDir: options.stateDir, keyStorage })
      await certificates.load()
      // A demotion's leftovers go; an interrupted promotion's stay (the worker promotes itself again with them).
      if (certificates.identity?.role === 'worker') await removeManagerState(options.stateDir)
      const listenAddr = options.listenAddr ?? state.listenAddr
      const advertiseAddr = options.advertiseAddr ?? state.advertiseAddr
      return WorkerCluster.start({ certificates, keyStorage, roles: clusterRoles, managers: state.managers, options, listenAddr, advertiseAddr })
    }
    // Read the key once (ClusterLockedError before anything binds); the manager's own key store keeps it after.
    const { keys, unlockKey } = await openKeys(options)
    const keyStorage = ManagerKeyStorage.inMemory(keys.tlsKeyPem)
    const certificates = new NodeCertificateStore({ stateDir: options.stateDir, keyStorage })
    await certificates.load()
    const listenAddress = options.listenAddr ?? state.listenAddr
    const advertiseAddress = options.advertiseAddr ?? state.advertiseAddr
    if (force && certificates.identity?.role === 'worker') throw notAManager(options.stateDir)
    if (certificates.identity?.role === 'worker') {
      // Demoted (its Raft member removed, a worker certificate issued) before the switch was committed: finish it.
      return clusterRoles.toWorker({ certificates, keyStorage, options, roles: clusterRoles, half: undefined, managers: state.managers, listenAddr: listenAddress, advertiseAddr: advertiseAddress })
    }
    if (listenAddress === undefined) throw new FailedPreconditionError(`${clusterNodeStatePath(options.stateDir)} records no listen address: give listenAddr`, { reason: 'damaged-state' })
    // A promotion committed before its worker key file was removed.
    await removeKeyFile(options.stateDir)
    const logBroker = new LogBrokerComponent()
    const manager = await ManagerNode.open({
      stateDir: options.stateDir,
      listenAddress,
      advertiseAddress,
      tls: certificates.tlsSource(),
      unlockKey,
      forceNewCluster: force,
      ...managerInit(options, logBroker),
    })
    keyStorage.attach(manager)
    if (manager.server.address !== state.listenAddr || advertiseAddress !== state.advertiseAddr) {
      await writeClusterNodeState(options.stateDir, { ...state, listenAddr: manager.server.address, ...(advertiseAddress === undefined ? {} : { advertiseAddr: advertiseAddress }) }).catch(async (err: unknown) => {
        await manager.close()
        throw err
      })
    }
    return startManagerCluster(manager, { certificates, keyStorage, logBroker, options })
  }
}

/**
 * The manager's key store, opened with `options.unlockKey`; when locked and `waitForUnlock`,
 * after waiting for the key on the control socket (see unlock.ts).
 */
async function openKeys(options: ClusterOpenOptions): Promise<{ keys: ManagerKeyStore; unlockKey: string | undefined }> {
  const keyFile = managerStatePaths(options.stateDir).keys
  try {
    return { keys: await ManagerKeyStore.open(keyFile, { unlockKey: options.unlockKey }), unlockKey: options.unlockKey }
  } catch (err) {
    if (!(err instanceof ClusterLockedError) || options.waitForUnlock !== true) throw err
    return waitForUnlock({ keyFile, socketPath: join(options.stateDir, CONTROL_SOCKET_FILE), signal: options.signal, onLocked: options.onLocked })
  }
}

/** forceNewCluster on a worker's state directory. */
function notAManager(stateDir: string): FailedPreconditionError {
  return new FailedPreconditionError(`forceNewCluster: ${stateDir} holds a worker, not a manager: only a manager's state (a backup of one) can start a new cluster`, { reason: 'not-a-manager' })
}

/** An IP as the host of a `host:port` address (IPv6 in brackets). */
function bracketedIp(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip
}
