/**
 * Facts about each object kind the store holds: its table name, whether names are unique, and
 * where its name and labels live. Also the bounds of one proposal.
 *
 * @module
 */
import type { Annotations, ObjectKind, ObjectKinds, StoreObject } from '@swarmkit-ts/api'

/** The table of each object kind, as it appears on a transaction (`tx.services`, `tx.tasks`, …). */
export const TABLE_NAMES = {
  node: 'nodes',
  service: 'services',
  task: 'tasks',
  network: 'networks',
  cluster: 'clusters',
  secret: 'secrets',
  config: 'configs',
  extension: 'extensions',
  resource: 'resources',
} as const satisfies Record<ObjectKind, string>

/** The name of a table (`nodes`, `services`, …). */
export type TableName = (typeof TABLE_NAMES)[ObjectKind]

/** Kinds whose names are unique in their table (case-insensitively), as in SwarmKit. Tasks and nodes are not. */
export const UNIQUE_NAME_KINDS: ReadonlySet<ObjectKind> = new Set<ObjectKind>([
  'service',
  'network',
  'cluster',
  'secret',
  'config',
  'extension',
  'resource',
])

/**
 * At most this many actions go into one proposal made by group commit or `batch()` (SwarmKit's
 * `MaxChangesPerTransaction`). A single transaction with more actions still goes out whole, alone.
 */
export const MAX_CHANGE_SET_ACTIONS = 200

/** No proposal is larger than this (estimated encoded bytes): 1.5 MiB, SwarmKit's `MaxTransactionBytes`. */
export const MAX_CHANGE_SET_BYTES = 1.5 * 1024 * 1024

/** The annotations of an object: `spec.annotations`, or `annotations` for kinds without a spec. */
export function annotationsOf(kind: ObjectKind, obj: StoreObject): Annotations | undefined {
  switch (kind) {
    case 'task':
    case 'extension':
    case 'resource':
      return (obj as { annotations?: Annotations }).annotations
    default:
      return (obj as { spec?: { annotations?: Annotations } }).spec?.annotations
  }
}

/**
 * The name an object is indexed, found and watched by ('' when it has none): its annotations'
 * name — `spec.annotations.name`, or `annotations.name` for tasks, extensions and resources —
 * except for nodes, whose name is the hostname they report (`description.hostname`), as in
 * SwarmKit (its node name index and name watch selectors read `Description.Hostname`; a node's
 * `spec.annotations.name` is not indexed).
 */
export function nameOf(kind: ObjectKind, obj: StoreObject): string {
  if (kind === 'node') return (obj as ObjectKinds['node']).description?.hostname ?? ''
  return annotationsOf(kind, obj)?.name ?? ''
}

/**
 * Whether replacing `prev` by `next` changes a name that must stay unique (case-insensitively);
 * false for kinds whose names need not be unique (nodes, tasks).
 */
export function uniqueNameChanged(kind: ObjectKind, next: StoreObject, prev: StoreObject): boolean {
  if (!UNIQUE_NAME_KINDS.has(kind)) return false
  const a = nameOf(kind, next)
  const b = nameOf(kind, prev)
  return a !== b && a.toLowerCase() !== b.toLowerCase()
}

/** Whether `kind` is an object kind. */
export function isObjectKind(kind: unknown): kind is ObjectKind {
  return typeof kind === 'string' && Object.hasOwn(TABLE_NAMES, kind)
}
