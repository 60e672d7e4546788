/**
 * `stack rm`: removes every object labelled with the stack's namespace — services first, then
 * secrets, configs and networks (docker's order), each written as docker writes it
 * (`Removing service shop_web`). A network still used by a service being shut down is retried
 * until the service is gone.
 *
 * @module
 */
import { FailedPreconditionError, sleep, systemClock } from '@swarmkit-ts/api'
import type { ControlApi } from '@swarmkit-ts/core'
import { NAMESPACE_LABEL } from './names.ts'

/** Options of {@link removeStack}. */
export interface RemoveStackOptions {
  /** Told each removal (one line). */
  readonly log?: (line: string) => void
  /** Stops waiting for networks in use. */
  readonly signal?: AbortSignal
  /** How long a network in use is waited for before its removal fails. @default 30000 */
  readonly networkWaitMs?: number
}

/** What a removal found: the names of the objects removed, by kind. */
export interface RemovedStack {
  readonly services: readonly string[]
  readonly secrets: readonly string[]
  readonly configs: readonly string[]
  readonly networks: readonly string[]
}

/** Removes stack `namespace` (see the module doc); resolves with what it removed (all empty: nothing found). */
export async function removeStack(control: ControlApi, namespace: string, options: RemoveStackOptions = {}): Promise<RemovedStack> {
  const log = options.log ?? ((): void => {})
  const labels = { [NAMESPACE_LABEL]: namespace }
  const services = await control.services.list({ labels })
  const secrets = await control.secrets.list({ labels })
  const configs = await control.configs.list({ labels })
  const networks = await control.networks.list({ labels })
  for (const s of services) {
    log(`Removing service ${s.spec.annotations.name}`)
    await control.services.remove(s.id)
  }
  for (const s of secrets) {
    log(`Removing secret ${s.spec.annotations.name}`)
    await removeInUse(() => control.secrets.remove(s.id), options)
  }
  for (const c of configs) {
    log(`Removing config ${c.spec.annotations.name}`)
    await removeInUse(() => control.configs.remove(c.id), options)
  }
  for (const n of networks) {
    log(`Removing network ${n.spec.annotations.name}`)
    await removeInUse(() => control.networks.remove(n.id), options)
  }
  const names = (list: readonly { spec: { annotations: { name: string } } }[]): string[] => list.map((o) => o.spec.annotations.name)
  return { services: names(services), secrets: names(secrets), configs: names(configs), networks: names(networks) }
}

/** Runs `remove`, retrying while the object is still in use by a service being removed. */
async function removeInUse(remove: () => Promise<void>, options: RemoveStackOptions): Promise<void> {
  const deadline = systemClock.now() + (options.networkWaitMs ?? 30_000)
  for (;;) {
    try {
      await remove()
      return
    } catch (err) {
      if (!(err instanceof FailedPreconditionError) || systemClock.now() > deadline || options.signal?.aborted === true) throw err
    }
    await sleep(systemClock, 100, { signal: options.signal })
  }
}
