/**
 * Docker Engine API routes: tasks — list (filters `id`, `name`, `service`, `node`, `label`,
 * `desired-state`, `runtime`, and the CLI's private `_up-to-date` of its converge display),
 * inspect, and logs.
 *
 * @module
 */
import { TaskState, type Network, type Service, type Task, type TaskStateName } from '@swarmkit-ts/api'
import type { DockerApiManager, DockerApp, RouteContext } from '../context.ts'
import { DockerApiError } from '../errors.ts'
import { matchLabels, parseFilters } from '../filters.ts'
import { logsQuery, streamLogs } from '../translate/service-logs.ts'
import { optionalList, resolveObject } from '../translate/service-resolve.ts'
import { DOCKER_TASK_STATES, dockerTaskName, taskToDocker, taskUpToDate } from '../translate/task-object.ts'

type Query = Readonly<Record<string, unknown>>
type Params = Readonly<Record<string, string>>

const FILTERS = ['id', 'name', 'service', 'node', 'label', 'desired-state', 'runtime', '_up-to-date']

/** The networks the tasks are attached to, by ID (one list call, only when a task has any). */
async function attachedNetworks(manager: DockerApiManager, tasks: readonly Task[]): Promise<Map<string, Network>> {
  if (!tasks.some((t) => (t.networks?.length ?? 0) > 0)) return new Map()
  return new Map((await manager.networks.list()).map((n) => [n.id, n]))
}

/** The task `{id}` names (full ID, or a unique ID prefix). */
export function resolveTask(manager: DockerApiManager, idOrPrefix: string): Promise<Task> {
  return resolveObject('task', { get: (id) => manager.tasks.get(id), list: (f) => manager.tasks.list(f) }, idOrPrefix)
}

/** Registers the tasks routes. */
export function tasksRoutes(app: DockerApp, ctx: RouteContext): void {
  const { manager } = ctx

  app.get('/tasks', async (req) => {
    const filters = parseFilters((req.query as Query)['filters'], FILTERS)
    const desired = filters.get('desired-state')?.map((s) => {
      if (!DOCKER_TASK_STATES.includes(s)) throw new DockerApiError(400, `Invalid desired-state filter: '${s}'`)
      return TaskState[s.toUpperCase() as TaskStateName]
    })
    for (const r of filters.get('runtime') ?? []) if (r !== 'container') throw new DockerApiError(400, `Invalid runtime filter: '${r}'`)
    const services = await Promise.all((filters.get('service') ?? []).map((s) => resolveObject('service', manager.services, s)))
    const nodes = await Promise.all((filters.get('node') ?? []).map((n) => resolveObject('node', manager.nodes, n)))
    let tasks = await manager.tasks.list({
      ...optionalList('idPrefixes', filters.get('id')),
      ...(services.length > 0 ? { serviceIds: services.map((s) => s.id) } : {}),
      ...(nodes.length > 0 ? { nodeIds: nodes.map((n) => n.id) } : {}),
      ...(desired === undefined ? {} : { desiredStates: desired }),
    })
    const names = filters.get('name')
    if (names !== undefined) tasks = tasks.filter((t) => names.some((n) => dockerTaskName(t).startsWith(n)))
    // SwarmKit matches a task's `label` filter on its service's labels (docker stack ps filters on the stack label).
    tasks = tasks.filter((t) => matchLabels(filters, t.serviceAnnotations.labels))
    if (filters.has('_up-to-date')) {
      const byId = new Map<string, Service>()
      for (const s of services) byId.set(s.id, s)
      for (const id of new Set(tasks.map((t) => t.serviceId))) {
        if (!byId.has(id)) {
          const s = await manager.services.get(id).catch(() => undefined)
          if (s !== undefined) byId.set(id, s)
        }
      }
      tasks = tasks.filter((t) => {
        const s = byId.get(t.serviceId)
        return s !== undefined && taskUpToDate(s, t)
      })
    }
    const networks = await attachedNetworks(manager, tasks)
    return tasks.map((t) => taskToDocker(t, networks))
  })

  app.get('/tasks/:id', async (req) => {
    const { id } = req.params as Params
    const task = await resolveTask(manager, id ?? '')
    return taskToDocker(task, await attachedNetworks(manager, [task]))
  })

  app.get('/tasks/:id/logs', async (req, reply) => {
    const { id } = req.params as Params
    const q = logsQuery(req.query as Query)
    const task = await resolveTask(manager, id ?? '')
    await streamLogs(manager, reply, ctx.signal, { serviceId: task.serviceId, taskId: task.id, tty: task.spec.container?.tty === true }, q)
  })
}
