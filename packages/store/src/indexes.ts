/**
 * The secondary indexes of each table and the `find` selectors that use them. An index maps an
 * object to zero or more string keys; a table keeps, per index, a Map from key to the set of ids
 * with that key, so a lookup costs O(result size).
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { NodeMembership, NodeRole, ObjectKind, ObjectKinds, StoreObject, TaskState } from '@swarmkit-ts/api'
import { annotationsOf, nameOf } from './kinds.ts'

/**
 * Selectors every table supports. Names compare case-insensitively, as in SwarmKit; a node's name
 * is its `description.hostname` (see `find`).
 */
export type CommonFindBy =
  | { readonly idPrefix: string }
  | { readonly name: string }
  | { readonly namePrefix: string }
  /** Objects with label `label` (any value), or with exactly `label=value`. */
  | { readonly label: string; readonly value?: string }
  /** Objects whose annotations carry the custom index entry `{ key, val }` (SwarmKit's `ByCustom`; exact, case-sensitive). */
  | { readonly custom: { readonly key: string; readonly val: string } }
  /** Objects with a custom index entry under `key` whose `val` starts with `prefix` (SwarmKit's `ByCustomPrefix`). */
  | { readonly customPrefix: { readonly key: string; readonly prefix: string } }

/** Selectors that use reference indexes: objects referring to a network, secret or config id. */
export type ReferenceFindBy = { readonly network: string } | { readonly secret: string } | { readonly config: string }

/** Extra selectors of each table. */
export interface KindFindBy {
  node: { readonly role: NodeRole } | { readonly membership: NodeMembership }
  service: ReferenceFindBy
  task:
    | { readonly serviceId: string }
    | { readonly serviceId: string; readonly slot: number }
    | { readonly nodeId: string }
    | { readonly desiredState: TaskState }
    /** The observed state, `status.state`. */
    | { readonly state: TaskState }
    | ReferenceFindBy
  network: never
  cluster: never
  secret: never
  config: never
  extension: never
  resource: { readonly resourceKind: string }
}

/** Every key of every member of a union. */
type KeysOfUnion<U> = U extends unknown ? keyof U : never

/** Each member of `U` with the other members' keys forbidden: a value matches exactly one member. */
type OneOf<U, All = U> = U extends unknown ? U & { readonly [P in Exclude<KeysOfUnion<All>, keyof U>]?: never } : never

/**
 * What `find` accepts on the table of kind `K` — exactly one selector (the only compound one is
 * `{ serviceId, slot }` on tasks, which has an index of its own); omit it to list the whole table.
 * Combining selectors (`{ serviceId, nodeId }`) is a compile-time error, and an
 * `InvalidArgumentError` on `by` at run time.
 */
export type FindBy<K extends ObjectKind> = OneOf<CommonFindBy | KindFindBy[K]>

type Keys = string | readonly string[] | undefined
type KeyFn = (obj: StoreObject) => Keys

/** A compiled selector. */
export type Query =
  | { readonly type: 'all' }
  | { readonly type: 'index'; readonly index: string; readonly key: string }
  | { readonly type: 'idPrefix'; readonly prefix: string }
  | { readonly type: 'namePrefix'; readonly prefix: string }
  /** Objects with a key of index `index` that starts with `prefix`. */
  | { readonly type: 'indexPrefix'; readonly index: string; readonly prefix: string }

const SEP = '\u0000'

function labelKeys(kind: ObjectKind): KeyFn {
  return (o) => {
    const labels = annotationsOf(kind, o)?.labels
    return labels === undefined ? undefined : Object.keys(labels)
  }
}
function labelPairs(kind: ObjectKind): KeyFn {
  return (o) => {
    const labels = annotationsOf(kind, o)?.labels
    return labels === undefined ? undefined : Object.entries(labels).map(([k, v]) => k + SEP + v)
  }
}
function lowerName(kind: ObjectKind): KeyFn {
  return (o) => {
    const n = nameOf(kind, o)
    return n === '' ? undefined : n.toLowerCase()
  }
}

interface TaskLike {
  readonly networks?: readonly { readonly target?: string; readonly networkId?: string }[]
  readonly container?: {
    readonly secrets?: readonly { readonly secretId: string }[]
    readonly configs?: readonly { readonly configId: string }[]
  }
}

function uniq(list: string[]): readonly string[] | undefined {
  if (list.length === 0) return undefined
  return list.length === 1 ? list : [...new Set(list)]
}

function refIndexes(specOf: (o: StoreObject) => TaskLike | undefined, extraNetworks: (o: StoreObject) => TaskLike['networks']): Record<string, KeyFn> {
  return {
    network: (o) => {
      const out: string[] = []
      for (const n of specOf(o)?.networks ?? []) if (n.target !== undefined) out.push(n.target)
      for (const n of extraNetworks(o) ?? []) {
        const id = n.networkId ?? n.target
        if (id !== undefined) out.push(id)
      }
      return uniq(out)
    },
    secret: (o) => uniq((specOf(o)?.container?.secrets ?? []).map((s) => s.secretId)),
    config: (o) => uniq((specOf(o)?.container?.configs ?? []).map((c) => c.configId)),
  }
}

function customEntries(kind: ObjectKind): KeyFn {
  return (o) => {
    const entries = annotationsOf(kind, o)?.indices
    return entries === undefined || entries.length === 0 ? undefined : uniq(entries.map((e) => e.key + SEP + e.val))
  }
}

function commonIndexes(kind: ObjectKind): Record<string, KeyFn> {
  return { name: lowerName(kind), labelKey: labelKeys(kind), label: labelPairs(kind), custom: customEntries(kind) }
}

const task = (o: StoreObject): ObjectKinds['task'] => o as ObjectKinds['task']

/** An index: its key function and the top-level fields its keys depend on (unchanged fields → keys unchanged). */
export interface IndexDef {
  readonly keys: KeyFn
  readonly deps: readonly string[]
}

const SPEC_DEPS = ['spec']
const ANNOTATION_DEPS: Readonly<Record<ObjectKind, readonly string[]>> = {
  node: SPEC_DEPS,
  service: SPEC_DEPS,
  task: ['annotations'],
  network: SPEC_DEPS,
  cluster: SPEC_DEPS,
  secret: SPEC_DEPS,
  config: SPEC_DEPS,
  extension: ['annotations'],
  resource: ['annotations'],
}

function defs(kind: ObjectKind, fns: Record<string, KeyFn>, deps: Record<string, readonly string[]>): Readonly<Record<string, IndexDef>> {
  const all: Record<string, KeyFn> = { ...commonIndexes(kind), ...fns }
  const out: Record<string, IndexDef> = {}
  for (const [name, keys] of Object.entries(all)) out[name] = { keys, deps: deps[name] ?? ANNOTATION_DEPS[kind] }
  return out
}

/** Every index of every table, by kind and index name. */
export const INDEXES: { readonly [K in ObjectKind]: Readonly<Record<string, IndexDef>> } = {
  node: defs(
    'node',
    { role: (o) => (o as ObjectKinds['node']).role, membership: (o) => (o as ObjectKinds['node']).spec.membership },
    // A node's name is its reported hostname (see nameOf).
    { role: ['role'], membership: SPEC_DEPS, name: ['description'] },
  ),
  service: defs(
    'service',
    refIndexes(
      (o) => (o as ObjectKinds['service']).spec.task,
      (o) => (o as ObjectKinds['service']).spec.networks,
    ),
    {},
  ),
  task: defs(
    'task',
    {
      serviceId: (o) => (task(o).serviceId === '' ? undefined : task(o).serviceId),
      nodeId: (o) => (task(o).nodeId === '' ? undefined : task(o).nodeId),
      slot: (o) => (task(o).serviceId === '' ? undefined : task(o).serviceId + SEP + String(task(o).slot)),
      desiredState: (o) => String(task(o).desiredState),
      state: (o) => String(task(o).status.state),
      ...refIndexes(
        (o) => task(o).spec,
        (o) => task(o).networks,
      ),
    },
    {
      serviceId: ['serviceId'],
      nodeId: ['nodeId'],
      slot: ['serviceId', 'slot'],
      desiredState: ['desiredState'],
      state: ['status'],
      network: ['spec', 'networks'],
      secret: ['spec'],
      config: ['spec'],
    },
  ),
  network: defs('network', {}, {}),
  cluster: defs('cluster', {}, {}),
  secret: defs('secret', {}, {}),
  config: defs('config', {}, {}),
  extension: defs('extension', {}, {}),
  resource: defs('resource', { resourceKind: (o) => (o as ObjectKinds['resource']).kind }, { resourceKind: ['kind'] }),
}

/** Indexes a selector reaches only through its own form (`name`, `label`/`value`, `custom`, `serviceId`+`slot`). */
const INTERNAL_INDEXES: ReadonlySet<string> = new Set(['name', 'labelKey', 'label', 'slot', 'custom'])

function str(by: Record<string, unknown>, key: string, path = 'by'): string {
  const v = by[key]
  if (typeof v !== 'string') throw new InvalidArgumentError(`${path}.${key}`, 'must be a string')
  return v
}
function record(by: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = by[key]
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(`by.${key}`, 'must be an object')
  return v as Record<string, unknown>
}
function int(by: Record<string, unknown>, key: string): number {
  const v = by[key]
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new InvalidArgumentError(`by.${key}`, 'must be an integer')
  return v
}

/** Compiles a selector for the table of `kind`; an unknown or unsupported selector is an `InvalidArgumentError` on `by`. */
export function compileQuery(kind: ObjectKind, by: unknown): Query {
  if (by === undefined) return { type: 'all' }
  if (typeof by !== 'object' || by === null) throw new InvalidArgumentError('by', 'must be a selector object')
  const b = by as Record<string, unknown>
  const keys = Object.keys(b).filter((k) => b[k] !== undefined)
  const has = (k: string): boolean => keys.includes(k)
  let q: Query | undefined
  if (keys.length === 1 && has('idPrefix')) q = { type: 'idPrefix', prefix: str(b, 'idPrefix') }
  else if (keys.length === 1 && has('namePrefix')) q = { type: 'namePrefix', prefix: str(b, 'namePrefix').toLowerCase() }
  else if (keys.length === 1 && has('name')) q = { type: 'index', index: 'name', key: str(b, 'name').toLowerCase() }
  else if (keys.length === 1 && has('custom')) {
    const c = record(b, 'custom')
    q = { type: 'index', index: 'custom', key: str(c, 'key', 'by.custom') + SEP + str(c, 'val', 'by.custom') }
  } else if (keys.length === 1 && has('customPrefix')) {
    const c = record(b, 'customPrefix')
    q = { type: 'indexPrefix', index: 'custom', prefix: str(c, 'key', 'by.customPrefix') + SEP + str(c, 'prefix', 'by.customPrefix') }
  }
  else if (has('label') && keys.length <= 2 && (keys.length === 1 || has('value'))) {
    q = has('value')
      ? { type: 'index', index: 'label', key: str(b, 'label') + SEP + str(b, 'value') }
      : { type: 'index', index: 'labelKey', key: str(b, 'label') }
  } else if (kind === 'task' && keys.length === 2 && has('serviceId') && has('slot')) {
    q = { type: 'index', index: 'slot', key: str(b, 'serviceId') + SEP + String(int(b, 'slot')) }
  } else if (keys.length === 1) {
    const index = keys[0] ?? ''
    const key = index === 'desiredState' || index === 'state' ? String(int(b, index)) : b[index]
    if (Object.hasOwn(INDEXES[kind], index) && !INTERNAL_INDEXES.has(index)) {
      if (typeof key !== 'string') throw new InvalidArgumentError(`by.${index}`, 'must be a string')
      q = { type: 'index', index, key }
    }
  }
  if (q === undefined) throw new InvalidArgumentError('by', `unsupported selector {${keys.join(', ')}} for ${kind}`)
  return q
}

/** Whether index `index` of `kind` maps `obj` to `key`. */
export function hasKey(kind: ObjectKind, index: string, obj: StoreObject, key: string): boolean {
  const keys = INDEXES[kind][index]?.keys(obj)
  if (keys === undefined) return false
  return typeof keys === 'string' ? keys === key : keys.includes(key)
}

/** Whether `obj` (of `kind`) matches the compiled query. */
export function matchesQuery(kind: ObjectKind, obj: StoreObject, q: Query): boolean {
  switch (q.type) {
    case 'all':
      return true
    case 'idPrefix':
      return obj.id.startsWith(q.prefix)
    case 'namePrefix':
      return nameOf(kind, obj).toLowerCase().startsWith(q.prefix)
    case 'index':
      return hasKey(kind, q.index, obj, q.key)
    case 'indexPrefix': {
      const keys = INDEXES[kind][q.index]?.keys(obj)
      if (keys === undefined) return false
      return typeof keys === 'string' ? keys.startsWith(q.prefix) : keys.some((k) => k.startsWith(q.prefix))
    }
  }
}
