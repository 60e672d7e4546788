/**
 * The managers an agent may open its session with (SwarmKit's `remotes`): the weighted list the
 * last session message carried, with the failures observed since.
 *
 * @module
 */
import type { Random, WeightedManager } from '@swarmkit-ts/api'

/**
 * Chooses the manager of the next session: among the managers with the fewest failures
 * observed, one at random in proportion to its weight (a weight below 1 counts as 1), unless a
 * manager was named as the leader by the last `NotLeaderError`. A success clears a manager's
 * failures; a new list keeps the failures of the managers it still holds.
 */
export class ManagerList {
  #managers: readonly WeightedManager[] = []
  readonly #failures = new Map<string, number>()
  #preferred: string | undefined

  constructor(managers: readonly WeightedManager[] = []) {
    this.replace(managers)
  }

  /** The managers known, as last given. */
  get managers(): readonly WeightedManager[] {
    return this.#managers
  }

  /** Replaces the list (from a session message). */
  replace(managers: readonly WeightedManager[]): void {
    this.#managers = [...managers]
    const addrs = new Set(managers.map((m) => m.addr))
    for (const addr of [...this.#failures.keys()]) if (!addrs.has(addr)) this.#failures.delete(addr)
  }

  /** The manager for the next session, or undefined when none is known. */
  select(random: Random): WeightedManager | undefined {
    if (this.#managers.length === 0) return undefined
    const preferred = this.#preferred === undefined ? undefined : this.#managers.find((m) => m.addr === this.#preferred)
    this.#preferred = undefined
    if (preferred !== undefined) return preferred
    let fewest = Infinity
    for (const m of this.#managers) fewest = Math.min(fewest, this.#failures.get(m.addr) ?? 0)
    const candidates = this.#managers.filter((m) => (this.#failures.get(m.addr) ?? 0) === fewest)
    const weight = (m: WeightedManager): number => Math.max(1, m.weight)
    let pick = random.float() * candidates.reduce((sum, m) => sum + weight(m), 0)
    for (const m of candidates) {
      pick -= weight(m)
      if (pick < 0) return m
    }
    return candidates[candidates.length - 1]
  }

  /** A session with `addr` failed. */
  failed(addr: string): void {
    this.#failures.set(addr, (this.#failures.get(addr) ?? 0) + 1)
  }

  /** A session with `addr` registered. */
  succeeded(addr: string): void {
    this.#failures.delete(addr)
  }

  /** The next `select` returns the manager at `addr` if the list holds it (the leader a `NotLeaderError` named). */
  prefer(addr: string): void {
    this.#preferred = addr
  }
}
