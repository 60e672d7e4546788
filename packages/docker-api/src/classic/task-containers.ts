/**
 * The tasks of swarm services as containers, read only, as Swarm classic listed every container of
 * every node and as a Swarm node's own `docker ps` shows them: named `<service>.<slot>.<task id>`
 * (`<service>.<node id>.<task id>` for a global service), node-prefixed in lists. Their service
 * manages them, so stop, start, kill, rm, wait and attach are refused (409) pointing at
 * `docker service`.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Node, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { DockerApiManager } from '../context.ts'
import { DockerApiError } from '../errors.ts'
import { imageId } from '../translate/classic-container.ts'
import { statusText, taskExitCode, ZERO_TIME, type ClassicState } from '../translate/classic-state.ts'
import { dockerTime } from '../translate/meta.ts'
import { isClassic } from './containers.ts'

/** A task shown as a container, with its node. */
export interface TaskContainer {
  readonly task: Frozen<Task>
  readonly node: Frozen<Node> | undefined
}

/** Docker's name of a task's container: `<service>.<slot>.<task id>` (global: the node id for the slot). */
export function taskContainerName(task: Frozen<Task>): string {
  return `${task.serviceAnnotations.name}.${task.slot === 0 ? task.nodeId : task.slot}.${task.id}`
}

/** The container state of a task. */
export function taskContainerState(task: Frozen<Task>): ClassicState {
  const s = task.status.state
  const running = s === TaskState.RUNNING
  const ended = s >= TaskState.COMPLETE
  return {
    status: running ? 'running' : ended ? (s === TaskState.REJECTED ? 'dead' : 'exited') : 'created',
    running,
    restarting: false,
    exitCode: ended ? taskExitCode(task) : 0,
    pid: running ? (task.status.containerStatus?.pid ?? 0) : 0,
    error: ended && s !== TaskState.COMPLETE ? (task.status.err ?? '') : '',
    startedAt: running ? dockerTime(task.status.timestamp) : ended ? dockerTime(task.meta.createdAt) : ZERO_TIME,
    finishedAt: ended ? dockerTime(task.status.timestamp) : ZERO_TIME,
    task,
    nodeId: task.nodeId,
    restartCount: 0,
  }
}

/** The tasks of swarm services (not classic containers) placed on a node, as containers. */
export async function taskContainers(manager: DockerApiManager, nodes: readonly Frozen<Node>[]): Promise<TaskContainer[]> {
  const [services, tasks] = await Promise.all([manager.services.list(), manager.tasks.list()])
  const swarm = new Set(services.filter((s) => !isClassic(s)).map((s) => s.id))
  return tasks
    .filter((t) => swarm.has(t.serviceId) && t.nodeId !== '' && t.status.state >= TaskState.ASSIGNED && t.spec.container !== undefined)
    .map((task) => ({ task, node: nodes.find((n) => n.id === task.nodeId) }))
}

/** The task container `ref` (task id, unique id prefix, `<service>.<slot>.<id>`, optionally node-prefixed), if any. */
export async function findTaskContainer(manager: DockerApiManager, ref: string): Promise<TaskContainer | undefined> {
  const nodes = await manager.nodes.list()
  const all = await taskContainers(manager, nodes)
  const name = ref.replace(/^\/+/, '')
  const base = name.slice(name.lastIndexOf('/') + 1)
  const exact = all.find((c) => c.task.id === ref || taskContainerName(c.task) === base)
  if (exact !== undefined) return exact
  const byPrefix = all.filter((c) => ref !== '' && c.task.id.startsWith(ref))
  if (byPrefix.length > 1) throw new DockerApiError(404, `multiple containers found with provided prefix: ${ref}`)
  return byPrefix[0]
}

/** The refusal of a change to a task's container: its service manages it. */
export function managedByService(c: TaskContainer): DockerApiError {
  const service = c.task.serviceAnnotations.name
  return new DockerApiError(409, `container ${taskContainerName(c.task)} is task ${c.task.id} of service ${service}, which manages it: use docker service scale / update / rm ${service}`)
}

/** A `GET /containers/json` entry for a task. */
export function taskSummary(c: TaskContainer, now: number): Record<string, unknown> {
  const { task, node } = c
  const state = taskContainerState(task)
  const container = task.spec.container
  const image = container?.image ?? ''
  const name = taskContainerName(task)
  const host = node?.description?.hostname ?? ''
  return {
    Id: task.id,
    Names: [host === '' ? `/${name}` : `/${host}/${name}`],
    Image: image,
    ImageID: imageId(image),
    Command: [...(container?.command ?? []), ...(container?.args ?? [])].join(' '),
    Created: Math.floor(task.meta.createdAt / 1000),
    Ports: state.running ? (task.status.portStatus?.ports ?? []).map((p) => ({ IP: '0.0.0.0', PrivatePort: p.targetPort, ...(p.publishedPort === undefined ? {} : { PublicPort: p.publishedPort }), Type: p.protocol ?? 'tcp' })) : [],
    Labels: { ...(container?.labels ?? {}), 'com.docker.swarm.service.id': task.serviceId, 'com.docker.swarm.service.name': task.serviceAnnotations.name, 'com.docker.swarm.task.id': task.id, 'com.docker.swarm.task.name': name, 'com.docker.swarm.node.id': task.nodeId },
    State: state.status,
    Status: statusText(state, now),
    HostConfig: { NetworkMode: 'default' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  }
}
