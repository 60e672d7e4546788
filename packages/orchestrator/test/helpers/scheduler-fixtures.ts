/**
 * Plain nodes and tasks for the scheduler's pure placement core (no store): a READY, ACTIVE
 * linux/amd64 worker and a PENDING task of a service, each adjustable by overrides.
 */
import { NodeAvailability, NodeRole, NodeState, TaskState } from '@swarmkit-ts/api'
import type { Node, NodeDescription, Task, TaskSpec } from '@swarmkit-ts/api'

const META = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }

/** Options of {@link makeNode}. */
export interface NodeFixture {
  readonly labels?: Record<string, string>
  readonly engineLabels?: Record<string, string>
  readonly resources?: NodeDescription['resources']
  readonly platform?: NodeDescription['platform']
  readonly plugins?: readonly { type: string; name: string }[]
  readonly availability?: Node['spec']['availability']
  readonly state?: Node['status']['state']
  readonly role?: Node['role']
}

/** A node `id` (hostname = id). */
export function makeNode(id: string, o: NodeFixture = {}): Node {
  return {
    id,
    meta: META,
    spec: {
      annotations: { name: id, ...(o.labels === undefined ? {} : { labels: o.labels }) },
      desiredRole: o.role ?? NodeRole.WORKER,
      membership: 'accepted',
      availability: o.availability ?? NodeAvailability.ACTIVE,
    },
    description: {
      hostname: id,
      platform: o.platform ?? { os: 'linux', architecture: 'x86_64' },
      ...(o.resources === undefined ? {} : { resources: o.resources }),
      ...(o.engineLabels === undefined && o.plugins === undefined
        ? {}
        : { engine: { ...(o.engineLabels === undefined ? {} : { labels: o.engineLabels }), ...(o.plugins === undefined ? {} : { plugins: o.plugins }) } }),
    },
    status: { state: o.state ?? NodeState.READY },
    role: o.role ?? NodeRole.WORKER,
  }
}

/** Options of {@link makeTask}. */
export interface TaskFixture {
  readonly serviceId?: string
  readonly nodeId?: string
  readonly state?: TaskState
  readonly desiredState?: TaskState
  readonly spec?: TaskSpec
  readonly hostPorts?: readonly number[]
  readonly assignedGenericResources?: Task['assignedGenericResources']
}

/** A task `id` of service `svc` (PENDING, no node, a plain container) unless overridden. */
export function makeTask(id: string, o: TaskFixture = {}): Task {
  return {
    id,
    meta: META,
    spec: o.spec ?? { container: { image: 'busybox' } },
    serviceId: o.serviceId ?? 'svc',
    slot: 1,
    nodeId: o.nodeId ?? '',
    annotations: { name: id },
    serviceAnnotations: { name: o.serviceId ?? 'svc' },
    status: { timestamp: 0, state: o.state ?? TaskState.PENDING },
    desiredState: o.desiredState ?? TaskState.RUNNING,
    ...(o.hostPorts === undefined
      ? {}
      : { endpoint: { ports: o.hostPorts.map((p) => ({ targetPort: 80, publishedPort: p, publishMode: 'host' as const, protocol: 'tcp' as const })) } }),
    ...(o.assignedGenericResources === undefined ? {} : { assignedGenericResources: o.assignedGenericResources }),
  }
}

/** `n` PENDING tasks `<prefix>1..n` with the same spec. */
export function makeTasks(prefix: string, n: number, o: TaskFixture = {}): Task[] {
  return Array.from({ length: n }, (_, i) => makeTask(`${prefix}${String(i + 1)}`, o))
}

/** A task running on `nodeId` (state RUNNING). */
export function runningOn(id: string, nodeId: string, o: TaskFixture = {}): Task {
  return makeTask(id, { state: TaskState.RUNNING, ...o, nodeId })
}
