/**
 * Finding classic containers: the services labelled as containers, resolved by full id, unique
 * id prefix, name (`web`, `/web`) or classic's node-prefixed name (`node-1/web`), with their tasks
 * and nodes.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Node, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { DockerApiManager } from '../context.ts'
import { DockerApiError } from '../errors.ts'
import type { ClassicPlacementLookup } from '../translate/classic-constraints.ts'
import { CLASSIC_CONTAINER_LABEL } from '../translate/classic-create.ts'
import { classicState, type ClassicState } from '../translate/classic-state.ts'

/** A classic container: its service, tasks, state and node (the one it runs or last ran on). */
export interface ClassicContainer {
  readonly service: Frozen<Service>
  readonly tasks: readonly Frozen<Task>[]
  readonly state: ClassicState
  readonly node: Frozen<Node> | undefined
}

/** Docker's answer for a container it does not know (404). */
export function noSuchContainer(ref: string): DockerApiError {
  return new DockerApiError(404, `No such container: ${ref}`)
}

/** Whether `service` carries a classic container. */
export function isClassic(service: Frozen<Service>): boolean {
  return service.spec.annotations.labels?.[CLASSIC_CONTAINER_LABEL] === 'true'
}

/** Every classic container's service. */
export async function classicServices(manager: DockerApiManager): Promise<readonly Frozen<Service>[]> {
  return manager.services.list({ labels: { [CLASSIC_CONTAINER_LABEL]: 'true' } })
}

/** The service of the container `ref` (id, unique id prefix, name, `/name`, `node/name`); 404 otherwise. */
export async function resolveService(manager: DockerApiManager, ref: string): Promise<Frozen<Service>> {
  const all = await classicServices(manager)
  const exact = all.find((s) => s.id === ref)
  if (exact !== undefined) return exact
  const name = ref.replace(/^\/+/, '')
  const byName = all.find((s) => s.spec.annotations.name === name)
  if (byName !== undefined) return byName
  const slash = name.lastIndexOf('/')
  if (slash > 0) {
    const base = all.find((s) => s.spec.annotations.name === name.slice(slash + 1))
    if (base !== undefined) return base
  }
  const byPrefix = all.filter((s) => ref !== '' && s.id.startsWith(ref))
  if (byPrefix.length === 1) return byPrefix[0] as Frozen<Service>
  if (byPrefix.length > 1) throw new DockerApiError(404, `multiple containers found with provided prefix: ${ref}`)
  throw noSuchContainer(ref)
}

/** The container of `service`, with its tasks, state and node. */
export async function loadContainer(manager: DockerApiManager, service: Frozen<Service>, nodes?: readonly Frozen<Node>[]): Promise<ClassicContainer> {
  const tasks = await manager.tasks.list({ serviceIds: [service.id] })
  const state = classicState(service, tasks)
  let node: Frozen<Node> | undefined
  if (state.nodeId !== '') node = nodes !== undefined ? nodes.find((n) => n.id === state.nodeId) : await manager.nodes.get(state.nodeId).catch(() => undefined)
  return { service, tasks, state, node }
}

/** The container `ref` (see {@link resolveService}) with its tasks, state and node. */
export async function findContainer(manager: DockerApiManager, ref: string): Promise<ClassicContainer> {
  return loadContainer(manager, await resolveService(manager, ref))
}

/** Image references compare with `:latest` implied: `busybox` is `busybox:latest`. */
export function sameImage(a: string, b: string): boolean {
  const norm = (r: string): string => (/[:@][^/]*$/.test(r) ? r : `${r}:latest`).replace(/^docker\.io\/(library\/)?/, '')
  return norm(a) === norm(b)
}

/** The cluster facts that classic `constraint:` / `affinity:` entries need, read once. */
export async function placementLookup(manager: DockerApiManager): Promise<ClassicPlacementLookup> {
  const [nodes, services, tasks] = await Promise.all([manager.nodes.list(), classicServices(manager), manager.tasks.list({ desiredStates: [TaskState.RUNNING] })])
  const running = tasks.filter((t) => t.nodeId !== '' && t.status.state <= TaskState.RUNNING)
  return {
    isNodeId: (id) => nodes.some((n) => n.id === id),
    nodeOfContainer(ref) {
      const name = ref.replace(/^\/+/, '')
      const service = services.find((s) => s.id === ref || s.spec.annotations.name === name) ?? (services.filter((s) => s.id.startsWith(ref)).length === 1 ? services.find((s) => s.id.startsWith(ref)) : undefined)
      return service === undefined ? undefined : running.find((t) => t.serviceId === service.id)?.nodeId
    },
    nodesOfImage(image) {
      const out: string[] = []
      for (const t of running) if (sameImage(t.spec.container?.image ?? '', image) && !out.includes(t.nodeId)) out.push(t.nodeId)
      return out
    },
  }
}
