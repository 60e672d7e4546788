/**
 * A strict reader of Docker's request JSON: each field is taken once by name and type, the zero
 * values Docker's CLI always sends (`""`, `0`, `null`, `{}`) read as "unset" where Docker means
 * that, and {@link JsonFields.done} refuses every field that was not taken — with its full path
 * (`TaskTemplate.ContainerSpec.Foo`), so nothing a client asks for is silently dropped.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** One nanosecond-duration unit: Docker sends durations in ns, the api keeps ms. */
const NS_PER_MS = 1_000_000

/** The path of `key` under `path`. */
export function fieldPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  return path === '' ? key : `${path}.${key}`
}

/** A field Docker's API has that swarmkit-ts cannot honour: 400 naming it. */
export function unsupportedField(path: string, why?: string): InvalidArgumentError {
  return new InvalidArgumentError(path, `is not supported by swarmkit-ts${why === undefined ? '' : `: ${why}`}`)
}

function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return `a ${typeof v}`
}

/** The fields of one JSON object, read by name; see the module comment. */
export class JsonFields {
  /** The path of this object in the request (`''` for the body itself). */
  readonly path: string
  readonly #value: Readonly<Record<string, unknown>>
  readonly #taken = new Set<string>()

  /** Reads `value` (which must be an object) at `path`. */
  constructor(value: unknown, path: string) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(path, `must be a JSON object, got ${typeName(value)}`)
    }
    this.#value = value as Record<string, unknown>
    this.path = path
  }

  /** The object at `value`, or undefined for `null`/absent. */
  static optional(value: unknown, path: string): JsonFields | undefined {
    return value === undefined || value === null ? undefined : new JsonFields(value, path)
  }

  /** The raw value of `key` (marks it read). */
  raw(key: string): unknown {
    this.#taken.add(key)
    return this.#value[key]
  }

  /** Whether `key` is present with a value other than null. */
  has(key: string): boolean {
    const v = this.#value[key]
    return v !== undefined && v !== null
  }

  /** The path of `key`. */
  at(key: string): string {
    return fieldPath(this.path, key)
  }

  /** A string; `""` and absent read as undefined. */
  str(key: string): string | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null || v === '') return undefined
    if (typeof v !== 'string') throw new InvalidArgumentError(this.at(key), `must be a string, got ${typeName(v)}`)
    return v
  }

  /** A boolean; absent reads as undefined. */
  bool(key: string): boolean | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'boolean') throw new InvalidArgumentError(this.at(key), `must be a boolean, got ${typeName(v)}`)
    return v
  }

  /** A safe integer ≥ `min` (0 by default); absent reads as undefined, 0 stays 0. */
  int(key: string, min = 0): number | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new InvalidArgumentError(this.at(key), `must be an integer of at least ${min}, got ${JSON.stringify(v)}`)
    }
    return v
  }

  /** A number (a ratio); absent reads as undefined. */
  num(key: string): number | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidArgumentError(this.at(key), `must be a number, got ${JSON.stringify(v)}`)
    return v
  }

  /** A duration in ns as ms; absent reads as undefined, 0 stays 0. Sub-millisecond parts are refused. */
  durationMs(key: string): number | undefined {
    const ns = this.int(key)
    if (ns === undefined) return undefined
    if (ns % NS_PER_MS !== 0) throw new InvalidArgumentError(this.at(key), `must be a whole number of milliseconds (in ns), got ${ns}`)
    return ns / NS_PER_MS
  }

  /** A list of strings; absent and `null` read as undefined, `[]` stays `[]`. */
  strList(key: string): string[] | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (!Array.isArray(v)) throw new InvalidArgumentError(this.at(key), `must be a list of strings, got ${typeName(v)}`)
    return v.map((x, i) => {
      if (typeof x !== 'string') throw new InvalidArgumentError(fieldPath(this.at(key), i), `must be a string, got ${typeName(x)}`)
      return x
    })
  }

  /** A map of strings; absent and `null` read as undefined, `{}` stays `{}`. */
  strMap(key: string): Record<string, string> | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(this.at(key), `must be an object of strings, got ${typeName(v)}`)
    const out: Record<string, string> = {}
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x !== 'string') throw new InvalidArgumentError(fieldPath(this.at(key), k), `must be a string, got ${typeName(x)}`)
      out[k] = x
    }
    return out
  }

  /** A nested object; absent and `null` read as undefined. */
  obj(key: string): JsonFields | undefined {
    return JsonFields.optional(this.raw(key), this.at(key))
  }

  /** A list of objects; absent and `null` read as undefined. */
  objList(key: string): JsonFields[] | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (!Array.isArray(v)) throw new InvalidArgumentError(this.at(key), `must be a list, got ${typeName(v)}`)
    return v.map((x, i) => new JsonFields(x, fieldPath(this.at(key), i)))
  }

  /**
   * Refuses `key` as unsupported unless it holds a zero value (absent, null, `""`, `0`, `false`,
   * `[]`, `{}`, or an object of zero values), which Docker's CLI sends for "unset".
   */
  refuse(key: string, why?: string): void {
    if (!isZero(this.raw(key))) throw unsupportedField(this.at(key), why)
  }

  /** Accepts `key` and ignores it (fields Docker itself ignores or fills, e.g. `Version` of a spec). */
  ignore(key: string): void {
    this.#taken.add(key)
  }

  /** Refuses every field not read: 400 naming the first. */
  done(): void {
    for (const key of Object.keys(this.#value)) {
      if (!this.#taken.has(key)) throw new InvalidArgumentError(this.at(key), 'unknown field')
    }
  }
}

/** Whether `v` is a zero value of Go's JSON (what `omitempty` leaves out, and empty objects). */
export function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true
  if (Array.isArray(v)) return v.length === 0
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).every(isZero)
  return false
}

/** ms as Docker's ns. */
export function nsOf(ms: number): number {
  return ms * NS_PER_MS
}

type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T]

/** `T` with `undefined` allowed for its optional fields (which {@link compact} then drops). */
export type Loose<T> = { [K in Exclude<keyof T, OptionalKeys<T>>]: T[K] } & { [K in OptionalKeys<T>]?: T[K] | undefined }

/** `o` without its `undefined` fields (the api's types forbid an explicit `undefined`). */
export function compact<T extends object>(o: Loose<T>): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as T
}

/** A map, or undefined when it is empty (Docker sends `{}` for "none"). */
export function nonEmptyMap(m: Record<string, string> | undefined): Record<string, string> | undefined {
  return m === undefined || Object.keys(m).length === 0 ? undefined : m
}

/** A list, or undefined when it is empty. */
export function nonEmptyList<T>(l: readonly T[] | undefined): T[] | undefined {
  return l === undefined || l.length === 0 ? undefined : [...l]
}
