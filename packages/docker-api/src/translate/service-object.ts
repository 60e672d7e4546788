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
 * `ServiceStatus` of `service` from its tasks, counted as SwarmKit's ListServiceStatuses does (for
 * a job, only the tasks of its current iteration): running tasks are those whose state is running;
 * desired tasks are the replicas, a replicated job's `maxConcurrent`, or for global services and
 * jobs the tasks that should run or complete and have not completed; completed tasks (jobs only).
 */
export function serviceStatus(service: Service, tasks: readonly Task[]): DockerServiceStatus {
  const mode = service.spec.mode
  const iteration = service.jobStatus?.jobIteration.index
  let running = 0
  let desired = 'replicated' in mode ? (mode.replicated.replicas ?? 1) : 'replicatedJob' in mode ? (mode.replicatedJob.maxConcurrent ?? 1) : 0
  const global = 'global' in mode || 'globalJob' in mode
  let completed = 0
  for (const t of tasks) {
    if (t.serviceId !== service.id) continue
    if (iteration !== undefined) {
      if (t.jobIteration?.index !== iteration) continue
      if (t.status.state === TaskState.COMPLETE) completed++
    }
    if (t.status.state === TaskState.RUNNING) running++
    if (global && t.desiredState === TaskState.RUNNING) desired++
    if (global && t.desiredState === TaskState.COMPLETE && t.status.state !== TaskState.COMPLETE) desired++
  }
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
