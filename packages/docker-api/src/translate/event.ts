/**
 * Store events as Docker's `/events` messages (API 1.41): swarm objects (service, node, secret,
 * config, network) as dockerd's cluster watch reports them — `create` / `update` / `remove`, scope
 * `swarm`, the object's name, and on an update the attributes that changed (`replicas.old/new`,
 * `image.old/new`, `updatestate.old/new`, `availability.old/new`, `role.old/new`,
 * `state.old/new`, `leader.old/new`, `reachability.old/new`) — and tasks as the containers of the
 * cluster seen as one host: `create`, `start`, `die` (with `exitCode`), `stop` and `destroy`
 * from their state changes, scope `local`, with the legacy `status` / `id` / `from` fields
 * (Swarm classic's containers under their own ID and name).
 *
 * @module
 */
import { TaskState, type Node, type Service, type Task } from '@swarmkit-ts/api'
import type { Frozen, ObjectEvent } from '@swarmkit-ts/store'
import { CLASSIC_CONTAINER_LABEL } from './classic-create.ts'

/** The object types of Docker's events this server reports. */
export const DockerEventType = { service: 'service', node: 'node', secret: 'secret', config: 'config', network: 'network', container: 'container' } as const
/** An object type of Docker's events. */
export type DockerEventType = (typeof DockerEventType)[keyof typeof DockerEventType]

/** The actor of an event: the object's ID and attributes (`name` always). */
export interface DockerEventActor {
  readonly ID: string
  readonly Attributes: Readonly<Record<string, string>>
}

/**
 * One event as Docker's `events.Message`. `timeNano` is exact (a bigint): serialize with
 * {@link dockerEventJson}, which writes it as a JSON number.
 */
export interface DockerEvent {
  /** Legacy (containers): the action. */
  readonly status?: string
  /** Legacy (containers): the actor's ID. */
  readonly id?: string
  /** Legacy (containers): the image. */
  readonly from?: string
  readonly Type: DockerEventType
  readonly Action: string
  readonly Actor: DockerEventActor
  /** `swarm` for cluster objects, `local` for containers. */
  readonly scope: 'swarm' | 'local'
  /** Nanoseconds since the Unix epoch. */
  readonly timeNano: bigint
}

/** The JSON line of `ev` as dockerd writes it (fields in Go's order, attributes sorted, `time` in seconds, `timeNano` exact), without the newline. */
export function dockerEventJson(ev: DockerEvent): string {
  const { timeNano, ...rest } = ev
  const head = JSON.stringify({
    ...(rest.status === undefined ? {} : { status: rest.status }),
    ...(rest.id === undefined ? {} : { id: rest.id }),
    ...(rest.from === undefined ? {} : { from: rest.from }),
    Type: rest.Type,
    Action: rest.Action,
    // Go writes a map's keys sorted.
    Actor: { ID: rest.Actor.ID, Attributes: Object.fromEntries(Object.entries(rest.Actor.Attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) },
    scope: rest.scope,
  })
  return `${head.slice(0, -1)},"time":${(timeNano / 1_000_000_000n).toString()},"timeNano":${timeNano.toString()}}`
}

/** Milliseconds since the epoch as nanoseconds. */
export function msToNano(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * 1_000_000n
}

/** The time of a swarm object's event as dockerd takes it: created for a create, updated for an update, now for a removal. */
function objectTime(ev: { readonly action: 'create' | 'update' | 'delete'; readonly object: { readonly meta: { readonly createdAt: number; readonly updatedAt: number } } }, nowMs: number): bigint {
  if (ev.action === 'create') return msToNano(ev.object.meta.createdAt)
  if (ev.action === 'update') return msToNano(ev.object.meta.updatedAt)
  return msToNano(nowMs)
}

const ACTION = { create: 'create', update: 'update', delete: 'remove' } as const

function swarmEvent(type: DockerEventType, action: string, id: string, attributes: Record<string, string>, timeNano: bigint): DockerEvent {
  return { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'swarm', timeNano }
}

/** Adds `key.old` / `key.new` when the values differ. */
function changed(attrs: Record<string, string>, key: string, oldValue: string | undefined, newValue: string | undefined): void {
  if (oldValue === newValue || oldValue === undefined || newValue === undefined) return
  attrs[`${key}.old`] = oldValue
  attrs[`${key}.new`] = newValue
}

function replicasOf(s: Frozen<Service>): string | undefined {
  return 'replicated' in s.spec.mode ? String(s.spec.mode.replicated.replicas ?? 1) : undefined
}

function serviceAttributes(s: Frozen<Service>, old: Frozen<Service> | undefined): Record<string, string> {
  const attrs: Record<string, string> = { name: s.spec.annotations.name }
  if (old === undefined) return attrs
  changed(attrs, 'image', old.spec.task.container?.image, s.spec.task.container?.image)
  changed(attrs, 'replicas', replicasOf(old), replicasOf(s))
  if (s.updateStatus !== undefined) {
    if (old.updateStatus === undefined) attrs['updatestate.new'] = s.updateStatus.state
    else changed(attrs, 'updatestate', old.updateStatus.state, s.updateStatus.state)
  }
  return attrs
}

/** A node's name in events: its spec name, else its hostname. */
function nodeName(n: Frozen<Node>): string {
  return n.spec.annotations.name !== '' ? n.spec.annotations.name : (n.description?.hostname ?? '')
}

function nodeAttributes(n: Frozen<Node>, old: Frozen<Node> | undefined): Record<string, string> {
  const attrs: Record<string, string> = { name: nodeName(n) }
  if (old === undefined) return attrs
  changed(attrs, 'availability', old.spec.availability, n.spec.availability)
  changed(attrs, 'role', old.role, n.role)
  changed(attrs, 'state', old.status.state, n.status.state)
  if (n.managerStatus !== undefined && old.managerStatus !== undefined) {
    changed(attrs, 'leader', String(old.managerStatus.leader), String(n.managerStatus.leader))
    changed(attrs, 'reachability', old.managerStatus.reachability, n.managerStatus.reachability)
  }
  return attrs
}

/**
 * Whether a service is one of Swarm classic's containers (a service per `docker run`, marked with
 * {@link CLASSIC_CONTAINER_LABEL}): its tasks are reported as that container (the service's ID and
 * name), and the service itself raises no service events.
 */
function isClassic(labels: Readonly<Record<string, string>> | undefined): boolean {
  return labels?.[CLASSIC_CONTAINER_LABEL] === 'true'
}

/** A task's name as Docker names its container: `<service>.<slot>.<task id>` (the node id for a global task). */
export function taskContainerName(task: Frozen<Task>): string {
  if (isClassic(task.serviceAnnotations.labels)) return task.serviceAnnotations.name
  if (task.annotations.name !== '') return task.annotations.name
  return `${task.serviceAnnotations.name}.${task.slot === 0 ? task.nodeId : String(task.slot)}.${task.id}`
}

/** The container ID of a task in events: a classic container's service ID; else the runtime's container ID once reported, else the task ID. */
export function taskContainerId(task: Frozen<Task>): string {
  if (isClassic(task.serviceAnnotations.labels)) return task.serviceId
  const id = task.status.containerStatus?.containerId
  return id !== undefined && id !== '' ? id : task.id
}

function containerEvent(task: Frozen<Task>, action: string, timeNano: bigint, extra: Record<string, string> = {}): DockerEvent {
  const image = task.spec.container?.image ?? ''
  const id = taskContainerId(task)
  const attributes: Record<string, string> = {
    ...(task.spec.container?.labels ?? {}),
    ...(task.annotations.labels ?? {}),
    'com.docker.swarm.node.id': task.nodeId,
    'com.docker.swarm.service.id': task.serviceId,
    'com.docker.swarm.service.name': task.serviceAnnotations.name,
    'com.docker.swarm.task': '',
    'com.docker.swarm.task.id': task.id,
    'com.docker.swarm.task.name': taskContainerName(task),
    ...(image === '' ? {} : { image }),
    name: taskContainerName(task),
    ...extra,
  }
  return { status: action, id, ...(image === '' ? {} : { from: image }), Type: 'container', Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', timeNano }
}

/**
 * The container events of a task's change: `create` when it reaches READY (its container
 * exists), `start` at RUNNING, `die` when a task that ran ends (with `exitCode` when the agent
 * reported one), then `stop` when the end was asked for (desired state past RUNNING); `destroy`
 * when a task that had a container is removed from the store. A task that ends without having
 * run (rejected, shut down before it started) reports nothing, as no container ran.
 */
export function taskEvents(ev: ObjectEvent<'task'>, nowMs: number): DockerEvent[] {
  const task = ev.object
  if (ev.action === 'delete') return task.status.state >= TaskState.READY ? [containerEvent(task, 'destroy', msToNano(nowMs))] : []
  // An update without its old object (not produced by the local store) cannot say what crossed.
  if (ev.action === 'update' && ev.oldObject === undefined) return []
  const before = ev.action === 'update' ? (ev.oldObject?.status.state ?? TaskState.NEW) : TaskState.NEW
  const after = task.status.state
  if (after <= before) return []
  const exitCode = task.status.containerStatus?.exitCode
  const ended = after > TaskState.RUNNING
  // A task that ended in this change ran when it was running before, or an exit code says so.
  const ran = before >= TaskState.RUNNING || exitCode !== undefined
  const time = msToNano(task.status.timestamp)
  const out: DockerEvent[] = []
  if (before < TaskState.READY && after >= TaskState.READY && (!ended || ran)) out.push(containerEvent(task, 'create', time))
  if (before < TaskState.RUNNING && after >= TaskState.RUNNING && (!ended || ran)) out.push(containerEvent(task, 'start', time))
  if (ended && before <= TaskState.RUNNING && ran) {
    out.push(containerEvent(task, 'die', time, { exitCode: String(exitCode ?? 0) }))
    if (task.desiredState > TaskState.RUNNING) out.push(containerEvent(task, 'stop', time))
  }
  return out
}

/**
 * The Docker events of one store event (none for kinds Docker does not report: clusters,
 * extensions, resources). `nowMs` stamps removals (the store keeps no removal time).
 */
export function dockerEvents(ev: ObjectEvent, nowMs: number): DockerEvent[] {
  const action = ACTION[ev.action]
  switch (ev.kind) {
    case 'service':
      if (isClassic(ev.object.spec.annotations.labels)) return []
      return [swarmEvent('service', action, ev.object.id, serviceAttributes(ev.object, ev.action === 'update' ? ev.oldObject : undefined), objectTime(ev, nowMs))]
    case 'node':
      return [swarmEvent('node', action, ev.object.id, nodeAttributes(ev.object, ev.action === 'update' ? ev.oldObject : undefined), objectTime(ev, nowMs))]
    case 'secret':
      return [swarmEvent('secret', action, ev.object.id, { name: ev.object.spec.annotations.name }, objectTime(ev, nowMs))]
    case 'config':
      return [swarmEvent('config', action, ev.object.id, { name: ev.object.spec.annotations.name }, objectTime(ev, nowMs))]
    case 'network':
      return [swarmEvent('network', action, ev.object.id, { name: ev.object.spec.annotations.name }, objectTime(ev, nowMs))]
    case 'task':
      return taskEvents(ev, nowMs)
    default:
      return []
  }
}
