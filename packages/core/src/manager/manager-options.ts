/**
 * The options of a {@link ManagerNode}, their validation, and what a manager derives from its
 * certificate.
 *
 * @module
 */
import { X509Certificate } from 'node:crypto'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { ClusterRootCA, ClusterSpec, Clock, Logger, NodeCertificate, Random } from '@swarmkit-ts/api'
import { TlsMaterialSource, identityOf, type NodeIdentity } from '@swarmkit-ts/pki'
import type { LeaderComponent } from './leader-component.ts'

/** Raft settings of a manager (ticks of `tickMs`). */
export interface ManagerRaftOptions {
  /** Milliseconds per Raft tick. @default 1000 (SwarmKit) */
  tickMs?: number | undefined
  /** Ticks without a leader before an election. @default 10 */
  electionTick?: number | undefined
  /** Ticks between leader heartbeats. @default 1 */
  heartbeatTick?: number | undefined
  /** Applied entries between snapshots. @default 10000 */
  snapshotInterval?: number | undefined
}

/** What every way of starting a manager takes. */
export interface ManagerNodeInit {
  /** The manager's state directory (see state-dir.ts for its layout). */
  stateDir: string
  /** `host:port` of the node server; port 0 lets the OS choose. */
  listenAddress: string
  /** The address other nodes reach this one at. @default the bound address */
  advertiseAddress?: string | undefined
  /** The node's TLS material: a manager certificate of the cluster (its CN is the node id, its O the cluster id). */
  tls: TlsMaterialSource
  /**
   * The unlock key (`SWMKEY-1-…`). On init or join: turns autolock on (the key file is sealed
   * under it). On open: required when the manager is autolocked (else `ClusterLockedError`).
   */
  unlockKey?: string | undefined
  /**
   * On open only: start as the only member of a new Raft group, keeping everything committed in
   * the state directory (the store: services, secrets, nodes, the CA, join tokens). The other
   * managers lose their membership; new ones join with the manager token. Docker's
   * `swarm init --force-new-cluster`: restoring a backup, recovering from a quorum loss.
   * @default false
   */
  forceNewCluster?: boolean | undefined
  /** Parts started on the leader after the manager's own loops (CA signer, root rotation, log broker). */
  leaderComponents?: readonly LeaderComponent[] | undefined
  /** Raft timing. */
  raft?: ManagerRaftOptions | undefined
  /** The dispatcher's heartbeat period. @default 5000 */
  heartbeatPeriodMs?: number | undefined
  /** @default systemClock */
  clock?: Clock | undefined
  /** @default cryptoRandom */
  random?: Random | undefined
  /** @default silentLogger */
  logger?: Logger | undefined
}

/** Options of `ManagerNode.init`: a new one-manager cluster. */
export interface ManagerInitOptions extends ManagerNodeInit {
  /** The cluster's spec. @default defaults, named `default` */
  clusterSpec?: ClusterSpec | undefined
  /**
   * The cluster object's root CA fields (certificate, key, digest, join tokens), e.g. from the
   * CA bootstrap. @default the trust bundle of `tls`, its digest and fresh join tokens for it
   */
  rootCa?: ClusterRootCA | undefined
  /** This manager's certificate as its Node records it (e.g. the CA bootstrap's `manager.certificate`). */
  nodeCertificate?: NodeCertificate | undefined
}

/** Options of `ManagerNode.join`: joining an existing cluster's Raft group. */
export interface ManagerJoinOptions extends ManagerNodeInit {
  /** `host:port` of a manager of the cluster (a follower redirects to the leader). */
  joinAddress: string
}

const ADDRESS = /^.+:\d{1,5}$/

/**
 * Validates the options every start shares and reads the node's identity from its certificate.
 *
 * @throws InvalidArgumentError naming the bad field (`tls` when the certificate is not a manager's).
 */
export function checkManagerInit(init: ManagerNodeInit): NodeIdentity {
  if (typeof init !== 'object' || init === null) throw new InvalidArgumentError('init', 'must be an object')
  if (typeof init.stateDir !== 'string' || init.stateDir === '') throw new InvalidArgumentError('stateDir', 'must be a non-empty path')
  if (typeof init.listenAddress !== 'string' || !ADDRESS.test(init.listenAddress)) throw new InvalidArgumentError('listenAddress', `must be host:port, got ${String(init.listenAddress)}`)
  if (!(init.tls instanceof TlsMaterialSource)) throw new InvalidArgumentError('tls', 'must be a TlsMaterialSource')
  const heartbeat = init.heartbeatPeriodMs
  if (heartbeat !== undefined && (!Number.isSafeInteger(heartbeat) || heartbeat <= 0)) throw new InvalidArgumentError('heartbeatPeriodMs', 'must be a positive integer')
  let id: NodeIdentity
  try {
    id = identityOf(new X509Certificate(init.tls.current.certChainPem), 'tls')
  } catch (err) {
    throw new InvalidArgumentError('tls', 'carries no swarm node certificate', { cause: err })
  }
  if (id.role !== 'manager') throw new InvalidArgumentError('tls', `must hold a manager certificate, got role ${id.role}`)
  return id
}
