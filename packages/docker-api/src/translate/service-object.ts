/**
 * The api's `Service` as Docker's: `ID`, `Version`, times, `Spec`, `PreviousSpec`, `Endpoint`
 * (spec, published ports, virtual IPs), `UpdateStatus`, `JobStatus`, and with `?status=true` the
 * `ServiceStatus` task counts `docker service ls` prints as REPLICAS.
 *
 * @module
 */
import { TaskState, withServiceDefaults, type Service, type ServiceSpec, type Task } from '@swarmkit-ts/api'
import { dockerMeta, dockerTime } from './meta.ts'
import type { DockerJson } from './service-container.ts'
import { compact } from './service-json.ts'
import { endpointSpecToDocker, portsToDocker, serviceSpecToDocker } from './service-spec.ts'

/** Docker's `ServiceStatus`. */
export interface DockerServiceStatus {
  readonly RunningTasks: number
  readonly DesiredTasks: number
  readonly CompletedTasks: number
}

/**
 * `ServiceStatus` of `service` from its tasks (of the current job iteration for jobs): running
 * tasks that should run; desired tasks (replicas; for a global service the tasks that should run,
 * one per eligible node; for a job its total completions, or its tasks for a global job); and
 * completed tasks.
 */
export function serviceStatus(service: Service, tasks: readonly Task[]): DockerServiceStatus {
  const mine = tasks.filter((t) => t.serviceId === service.id)
  const mode = service.spec.mode
  const iteration = service.jobStatus?.jobIteration.index
  const current = iteration === undefined ? mine : mine.filter((t) => t.jobIteration?.index === iteration)
  const running = current.filter((t) => t.desiredState <= TaskState.RUNNING && t.status.state === TaskState.RUNNING).length
  const completed = current.filter((t) => t.status.state === TaskState.COMPLETE).length
  let desired: number
  if ('replicated' in mode) desired = mode.replicated.replicas ?? 1
  else if ('global' in mode) desired = current.filter((t) => t.desiredState <= TaskState.RUNNING).length
  else if ('replicatedJob' in mode) desired = mode.replicatedJob.totalCompletions ?? mode.replicatedJob.maxConcurrent ?? 1
  else desired = current.filter((t) => t.desiredState <= TaskState.COMPLETE).length
  return { RunningTasks: running, DesiredTasks: desired, CompletedTasks: completed }
}

function specOut(spec: ServiceSpec, insertDefaults: boolean): DockerJson {
  return serviceSpecToDocker(insertDefaults ? withServiceDefaults(spec) : spec)
}

/** Options of {@link serviceToDocker}. */
export interface ServiceToDockerOptions {
  /** Fill the spec defaults in (`?insertDefaults=true`). */
  readonly insertDefaults?: boolean
  /** The service's `ServiceStatus` (`?status=true` of a list). */
  readonly status?: DockerServiceStatus
}

/** The api's `Service` as Docker's. */
export function serviceToDocker(service: Service, options: ServiceToDockerOptions = {}): DockerJson {
  const insert = options.insertDefaults === true
  const endpoint = service.endpoint
  const update = service.updateStatus
  const job = service.jobStatus
  return compact<DockerJson>({
    ...dockerMeta(service.id, service.meta),
    Spec: specOut(service.spec, insert),
    PreviousSpec: service.previousSpec === undefined ? undefined : specOut(service.previousSpec, insert),
    Endpoint: compact<DockerJson>({
      Spec: endpointSpecToDocker(endpoint?.spec ?? service.spec.endpoint) ?? {},
      Ports: portsToDocker(endpoint?.ports),
      VirtualIPs: endpoint?.virtualIps?.map((v) => ({ NetworkID: v.networkId, Addr: v.addr })),
    }),
    UpdateStatus:
      update === undefined || update.state === 'unknown'
        ? undefined
        : compact<DockerJson>({
            State: update.state,
            StartedAt: update.startedAt === undefined ? undefined : dockerTime(update.startedAt),
            CompletedAt: update.completedAt === undefined ? undefined : dockerTime(update.completedAt),
            Message: update.message === '' ? undefined : update.message,
          }),
    ServiceStatus: options.status,
    JobStatus:
      job === undefined
        ? undefined
        : compact<DockerJson>({ JobIteration: { Index: Number(job.jobIteration.index) }, LastExecution: job.lastExecution === undefined ? undefined : dockerTime(job.lastExecution) }),
  })
}
