/**
 * Autolock across the managers. The unlock key lives in the cluster object
 * (`unlockKeys`, subsystem `manager`, replicated and sealed at rest like every Raft record):
 * - the leader keeps it consistent with `spec.encryptionConfig.autoLockManagers` (a key is made
 *   when autolock is turned on, removed when it is turned off) — {@link autolockKeeper};
 * - every manager re-seals its own key file under the cluster's current key (or unseals it when
 *   autolock is off) — {@link UnlockKeyFollower};
 * - the control API's key hooks read and rotate it — {@link unlockKeyHooks}.
 *
 * @module
 */
import { FailedPreconditionError, NotFoundError, type Cluster, type Logger, type Random } from '@swarmkit-ts/api'
import { UNLOCK_KEY_PREFIX, generateUnlockKey, parseUnlockKey, type ManagerKeyStore } from '@swarmkit-ts/pki'
import { StoreLoop, type Frozen, type MemoryStore } from '@swarmkit-ts/store'
import type { KeyHooks } from '../control/control-hooks.ts'
import type { LeaderComponent } from './leader-component.ts'

/** The `unlockKeys` subsystem of the managers' key. */
export const MANAGER_UNLOCK_SUBSYSTEM = 'manager'

/** The unlock key (`SWMKEY-1-…`) the cluster object holds, or `undefined` when autolock is off. */
export function clusterUnlockKey(cluster: Frozen<Cluster> | undefined): string | undefined {
  const entry = cluster?.unlockKeys?.find((k) => k.subsystem === MANAGER_UNLOCK_SUBSYSTEM)
  return entry === undefined ? undefined : UNLOCK_KEY_PREFIX + Buffer.from(entry.key).toString('base64').replace(/=+$/, '')
}

const autolockOn = (c: Frozen<Cluster>): boolean => c.spec.encryptionConfig?.autoLockManagers === true

function withKey(c: Frozen<Cluster>, key: string | undefined): Cluster {
  const others = (c.unlockKeys ?? []).filter((k) => k.subsystem !== MANAGER_UNLOCK_SUBSYSTEM).map((k) => ({ ...k }))
  const unlockKeys = key === undefined ? others : [...others, { subsystem: MANAGER_UNLOCK_SUBSYSTEM, key: parseUnlockKey(key) }]
  return { ...(c as Cluster), unlockKeys }
}

/** The leader component that makes (or drops) the cluster's unlock key when autolock is turned on (or off). */
export function autolockKeeper(random: Random): LeaderComponent {
  return {
    name: 'autolock-keeper',
    start: (ctx) => {
      // The loop ticks after every commit; only a cluster event (or the start, or a resync) can
      // call for a write, so the other ticks skip the transaction. A failed write is tried again
      // at the next tick.
      let changed = true
      const loop = new StoreLoop({ store: ctx.store, logger: ctx.logger }, 'autolock-keeper', ['cluster'], {
        resync: () => (changed = true),
        event: () => (changed = true),
        tick: async () => {
          if (!changed) return
          changed = false
          try {
            await ctx.store.update((tx) => {
              for (const c of tx.clusters.find()) {
                const has = clusterUnlockKey(c) !== undefined
                if (autolockOn(c) && !has) tx.clusters.update(withKey(c, generateUnlockKey(random)))
                else if (!autolockOn(c) && has) tx.clusters.update(withKey(c, undefined))
              }
            })
          } catch (err) {
            changed = true
            throw err
          }
        },
      })
      loop.start()
      return { stop: () => loop.stop() }
    },
  }
}

/** The control API's key hooks on `store` (rotation writes the cluster object: call on the leader). */
export function unlockKeyHooks(store: MemoryStore, random: Random): KeyHooks {
  return {
    unlockKey: () => Promise.resolve(clusterUnlockKey(store.view((tx) => tx.clusters.find()[0]))),
    rotateUnlockKey: async () => {
      const key = generateUnlockKey(random)
      await store.update((tx) => {
        const c = tx.clusters.find()[0]
        if (c === undefined) throw new NotFoundError('cluster', 'default')
        if (!autolockOn(c)) throw new FailedPreconditionError('autolock is off: there is no unlock key to rotate', { reason: 'autolock-off' })
        tx.clusters.update(withKey(c, key))
      })
      return key
    },
  }
}

/** Keeps this manager's key file sealed under the cluster's current unlock key (every manager runs one). */
export class UnlockKeyFollower {
  readonly #loop: StoreLoop<'cluster'>
  readonly #keys: ManagerKeyStore
  readonly #logger: Logger
  #current: string | undefined
  /** A cluster event (or the start, or a resync) since the last tick: only then can the key differ. */
  #changed = true

  /** `current`: the key this manager's file is sealed under now (`undefined`: not sealed). */
  constructor(store: MemoryStore, keys: ManagerKeyStore, current: string | undefined, logger: Logger) {
    this.#keys = keys
    this.#current = current
    this.#logger = logger
    this.#loop = new StoreLoop({ store, logger }, 'unlock-key-follower', ['cluster'], {
      resync: () => (this.#changed = true),
      event: () => (this.#changed = true),
      tick: () => this.#tick(store),
    })
  }

  /** The key the file is sealed under now. */
  get current(): string | undefined {
    return this.#current
  }

  /** Starts following the cluster object. */
  start(): void {
    this.#loop.start()
  }

  /** Stops; resolves once no re-sealing is in progress. */
  stop(): Promise<void> {
    return this.#loop.stop()
  }

  /** The loop ticks after every commit: the key is looked at only after a cluster event (a failed re-seal is tried again at the next tick). */
  async #tick(store: MemoryStore): Promise<void> {
    if (!this.#changed) return
    this.#changed = false
    try {
      await this.#follow(store.view((tx) => tx.clusters.find()[0]))
    } catch (err) {
      this.#changed = true
      throw err
    }
  }

  async #follow(cluster: Frozen<Cluster> | undefined): Promise<void> {
    // No cluster object yet (a joiner catching up): keep what the file has.
    if (cluster === undefined) return
    const want = clusterUnlockKey(cluster)
    if (want === this.#current) return
    await this.#keys.setUnlockKey(want)
    this.#current = want
    this.#logger.info(want === undefined ? 'manager: autolock off, key file unsealed' : 'manager: key file sealed under the current unlock key')
  }
}
