/**
 * Field paths for codec errors: dotted camelCase names, indices and map keys in brackets
 * (`spec.task.container.ulimits[0].soft`, `annotations.labels["k"]`).
 *
 * @internal
 */
import { InvalidArgumentError } from './errors.ts'

/** A field path as a chain of segments, innermost last; built only while descending. */
export interface Path {
  readonly up: Path | undefined
  /** `.name`, `[3]` or `["key"]`; empty for a level left out of paths. */
  readonly seg: string
}

/** Formats a path (plus an optional last segment) as `a.b[0].c`. */
export function formatPath(path: Path | undefined, seg = ''): string {
  let out = seg
  for (let p = path; p !== undefined; p = p.up) out = p.seg + out
  return out.startsWith('.') ? out.slice(1) : out
}

/** Throws an `InvalidArgumentError` for the field at `path` + `seg`. */
export function fail(path: Path | undefined, seg: string, message: string): never {
  throw new InvalidArgumentError(formatPath(path, seg), message)
}

/** The path segment of a map key. */
export const keySeg = (key: string): string => `[${JSON.stringify(key)}]`
