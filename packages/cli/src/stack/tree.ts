/**
 * The located tree a compose file is read into: every value keeps the file and line it came from,
 * so validation can say `docker-compose.yml:12: services.web.deploy.replicas: must be an integer`
 * after merge keys and several `-c` files have been merged.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** Where a value was written. */
export interface Loc {
  /** The file as the user named it. */
  readonly file: string
  /** 1-based line. */
  readonly line: number
}

/** A scalar (after interpolation). */
export interface LScalar {
  readonly kind: 'scalar'
  readonly value: string | number | boolean | null
  readonly loc: Loc
}

/** A mapping; keys keep their own location (for "additional property" errors). */
export interface LMap {
  readonly kind: 'map'
  readonly entries: ReadonlyMap<string, LNode>
  readonly keyLocs: ReadonlyMap<string, Loc>
  readonly loc: Loc
}

/** A sequence. */
export interface LSeq {
  readonly kind: 'seq'
  readonly items: readonly LNode[]
  readonly loc: Loc
}

/** A located value. */
export type LNode = LScalar | LMap | LSeq

/**
 * A compose file error: an `InvalidArgumentError` whose `field` is the key path
 * (`services.web.deploy.replicas`) and whose message starts with `file:line: `.
 */
export class ComposeError extends InvalidArgumentError {
  /** The file the offending value was written in. */
  readonly file: string
  /** Its 1-based line. */
  readonly line: number
  constructor(loc: Loc, path: string, message: string, options?: { cause?: unknown }) {
    super(path, message, options)
    this.file = loc.file
    this.line = loc.line
    this.message = `${loc.file}:${loc.line}: ${path === '' ? '' : `${path}: `}${message}`
  }
}

/** Throws a {@link ComposeError} at `node`. */
export function fail(at: LNode | Loc, path: string, message: string): never {
  throw new ComposeError('kind' in at ? at.loc : at, path, message)
}

/** `parent.key` (or `key` at the top). */
export function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

/** `parent[i]`. */
export function item(path: string, i: number): string {
  return `${path}[${i}]`
}

/** The plain JavaScript value of a located tree (for snapshots and debugging). */
export function plain(node: LNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value
    case 'seq':
      return node.items.map(plain)
    case 'map':
      return Object.fromEntries([...node.entries].map(([k, v]) => [k, plain(v)]))
  }
}
