/**
 * The api's `Task` as Docker's: meta, `Spec`, `ServiceID`, `Slot`, `NodeID`, `Status` (state
 * names in lower case, `ContainerStatus`, `PortStatus`), `DesiredState`, `NetworksAttachments`.
 *
 * @module
 */
import { isDeepStrictEqual } from 'node:util'
import { taskStateName, type Network, type Service, type Task, type TaskState } from '@swarmkit-ts/api'
import { dockerMeta, dockerTime } from './meta.ts'
import type { DockerJson } from './service-container.ts'
import { compact } from './service-json.ts'
import { portsToDocker } from './service-spec.ts'
import { taskSpecToDocker } from './task-spec.ts'

/** Docker's name of a task state (`running`, `shutdown` …). */
export function dockerTaskState(state: TaskState): string {
  return taskStateName(state).toLowerCase()
}

/** The task states Docker's `desired-state` filter accepts, by name. */
export const DOCKER_TASK_STATES: readonly string[] = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']

/** A network as it appears in a task's `NetworksAttachments` (the essentials of Docker's network object). */
function attachedNetwork(id: string, network: Network | undefined): DockerJson {
  if (network === undefined) return { ID: id }
  const driver = network.spec.driverConfig
  return {
    ...dockerMeta(network.id, network.meta),
    Spec: compact<DockerJson>({
      Name: network.spec.annotations.name,
      Labels: { ...(network.spec.annotations.labels ?? {}) },
      DriverConfiguration: driver === undefined ? undefined : compact<DockerJson>({ Name: driver.name, Options: driver.options === undefined ? undefined : { ...driver.options } }),
      Ingress: network.spec.ingress === true ? true : undefined,
      Attachable: network.spec.attachable === true ? true : undefined,
      Scope: 'swarm',
    }),
    DriverState: compact<DockerJson>({ Name: network.driverState?.name ?? driver?.name ?? 'overlay', Options: network.driverState?.options === undefined ? undefined : { ...network.driverState.options } }),
    IPAMOptions: { Driver: { Name: network.ipam?.driver?.name ?? 'default' }, Configs: (network.ipam?.configs ?? []).map((c) => compact<DockerJson>({ Subnet: c.subnet, Range: c.range, Gateway: c.gateway })) },
  }
}

/** The name Docker's CLI shows for a task: `service.slot` (replicated) or `service.node` (global). */
export function dockerTaskName(task: Task): string {
  if (task.annotations.name !== '') return task.annotations.name
  return `${task.serviceAnnotations.name}.${task.slot !== 0 ? task.slot : task.nodeId}`
}

/** The api's `Task` as Docker's; `networks` resolves the attachments' network IDs. */
export function taskToDocker(task: Task, networks: ReadonlyMap<string, Network> = new Map()): DockerJson {
  const st = task.status
  const cs = st.containerStatus
  return compact<DockerJson>({
    ...dockerMeta(task.id, task.meta),
    Name: task.annotations.name === '' ? undefined : task.annotations.name,
    Labels: { ...(task.annotations.labels ?? {}) },
    Spec: taskSpecToDocker(task.spec),
    ServiceID: task.serviceId,
    Slot: task.slot === 0 ? undefined : task.slot,
    NodeID: task.nodeId === '' ? undefined : task.nodeId,
    Status: compact<DockerJson>({
      Timestamp: dockerTime(st.timestamp),
      State: dockerTaskState(st.state),
      Message: st.message,
      Err: st.err === '' ? undefined : st.err,
      ContainerStatus: cs === undefined ? undefined : { ContainerID: cs.containerId ?? '', PID: cs.pid ?? 0, ExitCode: cs.exitCode ?? 0 },
      PortStatus: compact<DockerJson>({ Ports: portsToDocker(st.portStatus?.ports) }),
    }),
    DesiredState: dockerTaskState(task.desiredState),
    NetworksAttachments: task.networks?.map((a) => compact<DockerJson>({ Network: attachedNetwork(a.networkId, networks.get(a.networkId)), Addresses: a.addresses === undefined ? undefined : [...a.addresses] })),
    GenericResources: task.assignedGenericResources?.map((g) =>
      'namedValue' in g ? { NamedResourceSpec: { Kind: g.kind, Value: g.namedValue } } : { DiscreteResourceSpec: { Kind: g.kind, Value: g.discreteValue } },
    ),
    JobIteration: task.jobIteration === undefined ? undefined : { Index: Number(task.jobIteration.index) },
  })
}

/**
 * Whether `task` runs the current spec of `service` (the CLI's private `_up-to-date` filter, used
 * by its converge display): the same spec version, or else the same task spec (a scale changes the
 * version, not the tasks).
 */
export function taskUpToDate(service: Service, task: Task): boolean {
  if (service.specVersion !== undefined && service.specVersion.index === task.specVersion?.index) return true
  return isDeepStrictEqual(service.spec.task, task.spec)
}
