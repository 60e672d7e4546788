import fc from 'fast-check'
import { OBJECT_KINDS } from '@swarmkit-ts/api'
import type { ObjectKind, ObjectKinds, StoreEvent, StoreObject } from '@swarmkit-ts/api'
import { arbCluster, arbConfig, arbExtension, arbResource, arbSecret } from './cluster-objects.ts'
import { arbNetwork, arbNode, arbService, arbTask } from './objects.ts'
import { arbVersion } from './primitives.ts'

const OBJECT_ARBITRARIES: { readonly [K in ObjectKind]: () => fc.Arbitrary<ObjectKinds[K]> } = {
  node: arbNode,
  service: arbService,
  task: arbTask,
  network: arbNetwork,
  cluster: arbCluster,
  secret: arbSecret,
  config: arbConfig,
  extension: arbExtension,
  resource: arbResource,
}

/** A valid stored object of `kind`. */
export function arbObject<K extends ObjectKind>(kind: K): fc.Arbitrary<ObjectKinds[K]> {
  return OBJECT_ARBITRARIES[kind]()
}

/** A valid object of any kind, together with its kind. */
export function arbAnyObject(): fc.Arbitrary<{ kind: ObjectKind; object: StoreObject }> {
  return fc.oneof(...OBJECT_KINDS.map((kind) => arbObject(kind).map((object): { kind: ObjectKind; object: StoreObject } => ({ kind, object }))))
}

/**
 * A {@link StoreEvent}: create, update (sometimes with the old object, which then has the same
 * ID), delete, or commit with a uint64 version.
 */
export function arbStoreEvent(): fc.Arbitrary<StoreEvent> {
  const create = arbAnyObject().map(({ kind, object }) => ({ action: 'create', kind, object }) as StoreEvent)
  const del = arbAnyObject().map(({ kind, object }) => ({ action: 'delete', kind, object }) as StoreEvent)
  const update = fc.oneof(
    ...OBJECT_KINDS.map((kind) =>
      fc.tuple(arbObject(kind), fc.option(arbObject(kind), { nil: undefined })).map(
        ([object, old]) => (old === undefined ? { action: 'update', kind, object } : { action: 'update', kind, object, oldObject: { ...old, id: object.id } }) as StoreEvent,
      ),
    ),
  )
  const commit = arbVersion().map((version): StoreEvent => ({ action: 'commit', version }))
  return fc.oneof(create, update, del, commit)
}
