/**
 * Fault settings and connectivity of {@link MemoryNetwork}: validation, per-link resolution and
 * the partition / block / isolation state. Internal to the package.
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { Random } from '@swarmkit-ts/api'
import type { DelayRange, LinkFaults } from './memory-network-types.ts'

/** The extra delay of a reordered message when none is configured. */
export const DEFAULT_REORDER_DELAY_MS: DelayRange = [1, 50]

/** The faults of one link with every field decided. */
export interface ResolvedFaults {
  readonly drop: number
  readonly duplicate: number
  readonly reorder: number
  readonly delayMs: DelayRange
  readonly reorderDelayMs: DelayRange
}

/** The key of the directed link `from → to`. */
export function linkKey(from: bigint, to: bigint): string {
  return `${from}>${to}`
}

/** Checks a delay range: whole milliseconds, `0 <= min <= max`. */
export function validateRange(range: DelayRange, field: string): DelayRange {
  const [min, max] = range
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || min > max) {
    throw new InvalidArgumentError(field, `must be whole milliseconds with 0 <= min <= max, got [${min}, ${max}]`)
  }
  return [min, max]
}

function validateProbability(p: number | undefined, field: string): void {
  if (p !== undefined && !(p >= 0 && p <= 1)) throw new InvalidArgumentError(field, `must be a probability in [0, 1], got ${p}`)
}

/** Checks fault settings and returns a frozen copy. */
export function validateFaults(faults: LinkFaults, field: string): LinkFaults {
  validateProbability(faults.drop, `${field}.drop`)
  validateProbability(faults.duplicate, `${field}.duplicate`)
  validateProbability(faults.reorder, `${field}.reorder`)
  const copy: { -readonly [K in keyof LinkFaults]: LinkFaults[K] } = { ...faults }
  if (faults.delayMs !== undefined) copy.delayMs = validateRange(faults.delayMs, `${field}.delayMs`)
  if (faults.reorderDelayMs !== undefined) copy.reorderDelayMs = validateRange(faults.reorderDelayMs, `${field}.reorderDelayMs`)
  return Object.freeze(copy)
}

/** The faults of a link: its own settings, else the network-wide ones, else the defaults. */
export function resolveFaults(link: LinkFaults | undefined, global: LinkFaults, defaultDelayMs: DelayRange): ResolvedFaults {
  return {
    drop: link?.drop ?? global.drop ?? 0,
    duplicate: link?.duplicate ?? global.duplicate ?? 0,
    reorder: link?.reorder ?? global.reorder ?? 0,
    delayMs: link?.delayMs ?? global.delayMs ?? defaultDelayMs,
    reorderDelayMs: link?.reorderDelayMs ?? global.reorderDelayMs ?? DEFAULT_REORDER_DELAY_MS,
  }
}

/** Whether an event of probability `p` happens; draws from `random` only when `0 < p < 1`. */
export function chance(random: Random, p: number): boolean {
  if (p <= 0) return false
  if (p >= 1) return true
  return random.float() < p
}

/** A delay drawn uniformly from `[min, max]`; draws from `random` only when `min < max`. */
export function drawDelay(random: Random, [min, max]: DelayRange): number {
  return min === max ? min : min + random.int(max - min + 1)
}

/** Which links are cut: a partition into sides, one-way blocks and isolated members. */
export class Connectivity {
  /** Side of each member listed in the current partition; members not listed are on side 0. */
  #sides = new Map<bigint, number>()
  readonly #blocked = new Set<string>()
  readonly #isolated = new Set<bigint>()

  /** Whether messages from `from` to `to` are lost. A member always reaches itself. */
  isCut(from: bigint, to: bigint): boolean {
    if (from === to) return false
    return (
      (this.#sides.get(from) ?? 0) !== (this.#sides.get(to) ?? 0) ||
      this.#isolated.has(from) ||
      this.#isolated.has(to) ||
      this.#blocked.has(linkKey(from, to))
    )
  }

  /** Replaces the partition: each of `sides` is one side, members not listed form one more. */
  partition(sides: readonly (readonly bigint[])[]): void {
    const next = new Map<bigint, number>()
    sides.forEach((side, i) => {
      for (const id of side) {
        if (next.has(id)) throw new InvalidArgumentError(`sides[${i}]`, `member ${id} is on two sides`)
        next.set(id, i + 1)
      }
    })
    this.#sides = next
  }

  block(from: bigint, to: bigint): void {
    this.#blocked.add(linkKey(from, to))
  }

  unblock(from: bigint, to: bigint): void {
    this.#blocked.delete(linkKey(from, to))
  }

  isolate(id: bigint): void {
    this.#isolated.add(id)
  }

  /** Removes the partition, every block and every isolation. */
  heal(): void {
    this.#sides = new Map()
    this.#blocked.clear()
    this.#isolated.clear()
  }
}
