/**
 * Keeps a node's certificate fresh through the CA service: pki's `CertificateRenewer` (renewal
 * at a random point in 50–80 % of the validity, retries with backoff) driving
 * {@link renewNodeCertificate} against a manager, saving into the node's certificate store (whose
 * TLS source the node's server and clients follow).
 *
 * @module
 */
import {
  InvalidArgumentError,
  IssuanceState,
  UnavailableError,
  cryptoRandom,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
  type Node,
  type ObjectKind,
  type Random,
} from '@swarmkit-ts/api'
import { CertificateRenewer, type NodeIdentity, type Validity } from '@swarmkit-ts/pki'
import type { MemoryStore, ObjectEvent, ReadTx, WatchSelector } from '@swarmkit-ts/store'
import type { NodeCertificateStore } from '../certs/node-certificate-store.ts'
import { renewNodeCertificate, type NodeCertificateResult } from './join.ts'

/**
 * Whether a node should renew its certificate now, judging from its Node object (as the
 * dispatcher session or the store shows it) and the certificate it holds: when the CA asks for
 * it (state `rotate`, a root rotation) or when the node's role differs from the certificate's
 * (a promotion or demotion). Not while a renewal is already pending.
 */
export function shouldRenewCertificate(node: Readonly<Pick<Node, 'role' | 'certificate'>>, held: Pick<NodeIdentity, 'role'>): boolean {
  const state = node.certificate?.status.state
  if (state === IssuanceState.ROTATE) return true
  if (state === IssuanceState.PENDING || state === IssuanceState.RENEW) return false
  return node.role !== held.role
}

/** Construction options of {@link NodeCertificateRenewal}. */
export interface NodeCertificateRenewalInit {
  /** The node's certificate store, loaded (or saved to) already. */
  certificates: NodeCertificateStore
  /** A manager to renew with (`host:port`): a manager's own address, or a worker's current manager; `undefined` when none is known (the attempt fails and is retried). */
  managerAddress: () => string | undefined
  /** Time of the renewal schedule. @default systemClock */
  clock?: Clock
  /** Where in 50–80 % of the validity to renew. @default cryptoRandom */
  random?: Random
  logger?: Logger
  /** Called after each renewal, with the new certificate. */
  onRenewed?: (result: NodeCertificateResult) => void
  /** First retry delay after a failure; doubles up to `maxRetryDelayMs`. @default 1000 */
  minRetryDelayMs?: number
  /** @default 300000 */
  maxRetryDelayMs?: number
}

/**
 * The renewal loop of a node's certificate. `start()` schedules from the current certificate;
 * `renewNow()` renews at once (after a promotion or demotion, or when the CA asks for a root
 * rotation: the node's certificate state `rotate`); `stop()` cancels and aborts a renewal in flight.
 */
export class NodeCertificateRenewal {
  readonly #init: NodeCertificateRenewalInit
  readonly #renewer: CertificateRenewer
  #abort = new AbortController()

  constructor(init: NodeCertificateRenewalInit) {
    if (typeof init.managerAddress !== 'function') throw new InvalidArgumentError('managerAddress', 'must be a function')
    this.#init = init
    this.#renewer = new CertificateRenewer({
      clock: init.clock ?? systemClock,
      random: init.random ?? cryptoRandom,
      logger: init.logger ?? silentLogger,
      renew: () => this.#renew(),
      ...(init.minRetryDelayMs === undefined ? {} : { minRetryDelayMs: init.minRetryDelayMs }),
      ...(init.maxRetryDelayMs === undefined ? {} : { maxRetryDelayMs: init.maxRetryDelayMs }),
    })
  }

  /** When the next renewal is due (ms since the epoch), or `undefined` when none is scheduled. */
  get nextRenewalAt(): number | undefined {
    return this.#renewer.nextRenewalAt
  }

  /**
   * Schedules renewals from the store's current certificate.
   *
   * @throws InvalidArgumentError (`certificates`) when the store has no certificate loaded.
   */
  start(): void {
    const v = this.#init.certificates.validity
    if (v === undefined) throw new InvalidArgumentError('certificates', 'load() or save() a certificate first')
    if (this.#abort.signal.aborted) this.#abort = new AbortController()
    this.#renewer.start(v)
  }

  /** Renews now; joins a renewal already running. Resolves when the attempt ends: a failed attempt is logged and retried with backoff. */
  async renewNow(): Promise<void> {
    await this.#renewer.renewNow()
  }

  /** Cancels the schedule and aborts a renewal in flight. */
  stop(): void {
    this.#renewer.stop()
    this.#abort.abort()
  }

  async #renew(): Promise<Validity> {
    const managerAddr = this.#init.managerAddress()
    if (managerAddr === undefined) throw new UnavailableError('no manager known to renew the certificate with')
    const result = await renewNodeCertificate({ managerAddr, certificates: this.#init.certificates, signal: this.#abort.signal })
    this.#init.onRenewed?.(result)
    return result.validity
  }
}

/** Construction options of {@link followNodeCertificate}. */
export interface FollowNodeCertificateInit {
  /** A store that holds this node's Node object (a manager's). */
  store: MemoryStore
  /** This node's ID. */
  nodeId: string
  /** This node's certificates (for the role it holds now). */
  certificates: NodeCertificateStore
  /** What renews (a {@link NodeCertificateRenewal}). */
  renewal: Pick<NodeCertificateRenewal, 'renewNow'>
  /** Ends the loop. */
  signal: AbortSignal
}

/**
 * For a node that sees the store (a manager): watches its own Node object and renews its
 * certificate whenever {@link shouldRenewCertificate} says so (a root rotation, a promotion or a
 * demotion), and follows the cluster's root CA as its trust root (`adoptTrustRoot`: once a root
 * rotation completes, the old root is trusted no more). Resolves when `signal` aborts. Workers
 * do the same with the Node object and root CA of their dispatcher session instead.
 */
export async function followNodeCertificate(init: FollowNodeCertificateInit): Promise<void> {
  await Promise.all([followOwnNode(init), followClusterRoot(init)])
}

async function followOwnNode(init: FollowNodeCertificateInit): Promise<void> {
  const { store, nodeId, certificates, renewal, signal } = init
  await followObject(store, (tx) => tx.nodes.get(nodeId), { kinds: 'node', id: nodeId }, signal, async (node) => {
    const held = certificates.identity
    if (node === undefined || held === undefined || !shouldRenewCertificate(node, held)) return
    await renewal.renewNow()
  })
}

async function followClusterRoot(init: FollowNodeCertificateInit): Promise<void> {
  const { store, certificates, signal } = init
  await followObject(store, (tx) => tx.clusters.find()[0], { kinds: 'cluster' }, signal, async (cluster) => {
    if (cluster === undefined || cluster.rootCa.caCert.length === 0) return
    await certificates.adoptTrustRoot(Buffer.from(cluster.rootCa.caCert).toString('utf8'))
  })
}

/**
 * Calls `fn` with the object `read` finds now, then with each created or updated object of the
 * selected kind (one at a time, in commit order) until `signal` aborts.
 */
async function followObject<K extends ObjectKind>(
  store: MemoryStore,
  read: (tx: ReadTx) => ObjectEvent<K>['object'] | undefined,
  selector: Omit<WatchSelector<K>, 'actions'>,
  signal: AbortSignal,
  fn: (object: ObjectEvent<K>['object'] | undefined) => Promise<void>,
): Promise<void> {
  const { result, watch } = store.viewAndWatch(read, { ...selector, actions: ['create', 'update'] }, { signal })
  try {
    await fn(result)
    for await (const ev of watch) {
      if (ev.action !== 'commit' && !signal.aborted) await fn((ev as ObjectEvent<K>).object)
    }
  } finally {
    watch.close()
  }
}
