/**
 * Parsers of flag values, as Docker reads them: durations (`10s`, `1m30s`), sizes (`512m`),
 * CPUs (`0.5`), `key=value` pairs and `a=b,c=d` option lists. Every bad value is an
 * `InvalidArgumentError` naming the flag (a usage error: exit 2).
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A Go duration (`300ms`, `10s`, `1m30s`, `1h`; `0` alone) in milliseconds. */
export function parseDuration(flag: string, value: string): number {
  if (value === '0') return 0
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let end = 0
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? 0)
    end = re.lastIndex
  }
  if (value === '' || end !== value.length) throw new InvalidArgumentError(flag, `must be a duration such as 10s, 1m30s or 500ms, got ${JSON.stringify(value)}`)
  return Math.round(total)
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 }

/** A size in bytes (`1024`, `512k`, `256m`, `1g`; binary units, as Docker's `RAMInBytes`). */
export function parseBytes(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value)
  const unit = SIZE_UNITS[(m?.[2] ?? '?').toLowerCase()]
  if (m === null || unit === undefined) throw new InvalidArgumentError(flag, `must be a size such as 512m or 1g, got ${JSON.stringify(value)}`)
  return Math.round(Number(m[1]) * unit)
}

/** CPUs as a decimal (`0.5`, `2`) in nano-CPUs. */
export function parseCpus(flag: string, value: string): number {
  if (!/^\d+(?:\.\d+)?$/.test(value)) throw new InvalidArgumentError(flag, `must be a number of CPUs such as 0.5, got ${JSON.stringify(value)}`)
  return Math.round(Number(value) * 1e9)
}

/** A non-negative integer (`positive`: at least 1). */
export function parseInteger(flag: string, value: string, positive = false): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || (positive && n === 0)) {
    throw new InvalidArgumentError(flag, `must be a ${positive ? 'positive' : 'non-negative'} integer, got ${JSON.stringify(value)}`)
  }
  return n
}

/** A ratio in [0, 1]. */
export function parseRatio(flag: string, value: string): number {
  const n = Number(value)
  if (value === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(flag, `must be a number between 0 and 1, got ${JSON.stringify(value)}`)
  return n
}

/** One of `choices`. */
export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === value)
  if (found === undefined) throw new InvalidArgumentError(flag, `must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`)
  return found
}

/** `key=value` (a bare `key` has value `''`) split at the first `=`. */
export function parseKeyValue(flag: string, value: string): readonly [string, string] {
  const i = value.indexOf('=')
  const key = i < 0 ? value : value.slice(0, i)
  if (key === '') throw new InvalidArgumentError(flag, `must be key=value, got ${JSON.stringify(value)}`)
  return [key, i < 0 ? '' : value.slice(i + 1)]
}

/** Repeated `key=value` flags as a record (later keys win). */
export function parseLabels(flag: string, values: readonly string[]): Record<string, string> {
  return Object.fromEntries(values.map((v) => parseKeyValue(flag, v)))
}

/** A comma-separated option list `a=b,c=d,flag` as a map (keys lower-cased). */
export function parseCsvOptions(flag: string, value: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of value.split(',')) {
    if (part.trim() === '') throw new InvalidArgumentError(flag, `has an empty field in ${JSON.stringify(value)}`)
    const [k, v] = parseKeyValue(flag, part.trim())
    out.set(k.toLowerCase(), v)
  }
  return out
}

/** Collects a repeatable flag's values (commander's `(value, previous)` parser). */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value]
}
