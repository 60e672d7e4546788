/**
 * Images as Swarm classic listed them: per node, node-prefixed (`worker-1/busybox:latest`). A
 * node reports no image store here, so a node "has" the images of the tasks assigned to it (the
 * runtime resolves or pulls each when its task starts); ids are synthetic (a hash of the
 * reference: no digest is known on the managers).
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Node, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { imageId } from './classic-container.ts'
import { dockerTime } from './meta.ts'

/** An image reference with its tag made explicit (`busybox` → `busybox:latest`; a digest is kept). */
export function taggedReference(ref: string): string {
  return /[:@][^/]*$/.test(ref) ? ref : `${ref}:latest`
}

/** One image on one node. */
export interface NodeImage {
  /** The reference as tasks name it, tag explicit. */
  readonly reference: string
  readonly node: Frozen<Node> | undefined
  readonly nodeId: string
  /** Tasks of this image on the node, not yet stopped. */
  readonly containers: number
  /** The earliest creation of a task of this image on the node (ms). */
  readonly created: number
}

/** The images of every node, from the tasks assigned to it (sorted by node name, then reference). */
export function nodeImages(tasks: readonly Frozen<Task>[], nodes: readonly Frozen<Node>[]): NodeImage[] {
  const byKey = new Map<string, { reference: string; nodeId: string; containers: number; created: number }>()
  for (const t of tasks) {
    const image = t.spec.container?.image
    if (image === undefined || t.nodeId === '') continue
    const reference = taggedReference(image)
    const key = `${t.nodeId}\u0000${reference}`
    const live = t.status.state <= TaskState.RUNNING && t.desiredState <= TaskState.RUNNING ? 1 : 0
    const seen = byKey.get(key)
    if (seen === undefined) byKey.set(key, { reference, nodeId: t.nodeId, containers: live, created: t.meta.createdAt })
    else byKey.set(key, { ...seen, containers: seen.containers + live, created: Math.min(seen.created, t.meta.createdAt) })
  }
  const name = (n: NodeImage): string => n.node?.description?.hostname ?? n.nodeId
  return [...byKey.values()]
    .map((i) => ({ ...i, node: nodes.find((n) => n.id === i.nodeId) }))
    .sort((a, b) => name(a).localeCompare(name(b)) || a.reference.localeCompare(b.reference))
}

/** The node-prefixed tag of an image (`worker-1/busybox:latest`), as classic showed it. */
export function nodeTag(image: NodeImage): string {
  return `${image.node?.description?.hostname ?? image.nodeId}/${image.reference}`
}

/** A `GET /images/json` entry. */
export function imageSummary(image: NodeImage): Record<string, unknown> {
  return {
    Id: imageId(image.reference),
    ParentId: '',
    RepoTags: [nodeTag(image)],
    RepoDigests: [],
    Created: Math.floor(image.created / 1000),
    Size: 0,
    SharedSize: -1,
    VirtualSize: 0,
    Labels: {},
    Containers: image.containers,
  }
}

/** A `GET /images/{name}/json` document for the images `found` (one reference, on one or more nodes). */
export function imageInspect(found: readonly NodeImage[]): Record<string, unknown> {
  const first = found[0]
  const reference = first?.reference ?? ''
  return {
    Id: imageId(reference),
    RepoTags: found.map(nodeTag),
    RepoDigests: [],
    Parent: '',
    Comment: '',
    Created: dockerTime(Math.min(...found.map((f) => f.created))),
    Container: '',
    DockerVersion: '',
    Author: '',
    Config: { Image: reference, Labels: {} },
    Architecture: first?.node?.description?.platform?.architecture ?? '',
    Os: first?.node?.description?.platform?.os ?? 'linux',
    Size: 0,
    VirtualSize: 0,
    GraphDriver: { Data: null, Name: '' },
    RootFS: { Type: 'layers' },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  }
}
