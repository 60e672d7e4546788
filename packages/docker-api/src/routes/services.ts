/**
 * Docker Engine API routes: services — create (the registry-auth header ignored), list (filters
 * `id`, `name`, `label`, `mode`; `status=true` adds `ServiceStatus`), inspect (`insertDefaults`),
 * update (`version`, `rollback=previous`; `registryAuthFrom` ignored), delete, and logs.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { InvalidArgumentError, type Service, type ServiceSpec } from '@swarmkit-ts/api'
import type { ServiceFilters } from '@swarmkit-ts/core'
import type { DockerApiManager, DockerApp, RouteContext } from '../context.ts'
import { DockerApiError } from '../errors.ts'
import { matchLabels, parseFilters } from '../filters.ts'
import { versionParam, withoutEchoedVersion } from '../translate/meta.ts'
import { inDockerTerms } from '../translate/service-errors.ts'
import { logsQuery, boolQuery, streamLogs } from '../translate/service-logs.ts'
import { serviceStatus, serviceToDocker } from '../translate/service-object.ts'
import { optionalList, resolveObject, resolveServiceReferences } from '../translate/service-resolve.ts'
import { serviceSpecFromDocker } from '../translate/service-spec.ts'

type Query = Readonly<Record<string, unknown>>
type Params = Readonly<Record<string, string>>

const MODES = ['replicated', 'global', 'replicated-job', 'global-job'] as const
const MODE_KIND: Readonly<Record<(typeof MODES)[number], NonNullable<ServiceFilters['modes']>[number]>> = {
  replicated: 'replicated',
  global: 'global',
  'replicated-job': 'replicatedJob',
  'global-job': 'globalJob',
}

/** The service `{id}` names (full ID, name, unique ID prefix). */
export function resolveService(manager: DockerApiManager, idOrName: string): Promise<Service> {
  return resolveObject('service', manager.services, idOrName)
}

/**
 * Carries over what Docker's JSON cannot express from the service's current spec into an update
 * read from Docker's JSON (a client reads, edits and writes back the spec: these would be lost).
 */
function keepBeyondDocker(current: ServiceSpec, next: ServiceSpec): ServiceSpec {
  const out: ServiceSpec = { ...next, task: { ...next.task } }
  const strategy = current.task.placement?.strategy
  if (strategy !== undefined) out.task.placement = { ...next.task.placement, strategy }
  if (current.task.resourceReferences !== undefined) out.task.resourceReferences = current.task.resourceReferences
  const pull = current.task.container?.pullOptions
  if (pull !== undefined && out.task.container !== undefined) out.task.container = { ...out.task.container, pullOptions: pull }
  const mode = current.mode
  if ('replicatedJob' in mode && mode.replicatedJob.schedule !== undefined && 'replicatedJob' in next.mode) {
    out.mode = { replicatedJob: { ...next.mode.replicatedJob, schedule: mode.replicatedJob.schedule } }
  } else if ('globalJob' in mode && mode.globalJob.schedule !== undefined && 'globalJob' in next.mode) {
    out.mode = { globalJob: { ...next.mode.globalJob, schedule: mode.globalJob.schedule } }
  }
  return out
}

/** A spec read from a create or update body, with its references resolved. */
async function specFromBody(manager: DockerApiManager, body: unknown): Promise<ServiceSpec> {
  if (body === undefined) throw new DockerApiError(400, 'the request body must be a service spec (JSON)')
  return resolveServiceReferences(manager, serviceSpecFromDocker(body))
}

/** Registers the services routes. */
export function servicesRoutes(app: DockerApp, ctx: RouteContext): void {
  const { manager } = ctx

  app.get('/services', async (req) => {
    const q = req.query as Query
    const filters = parseFilters(q['filters'], ['id', 'name', 'label', 'mode'])
    const modes = filters.get('mode')
    for (const m of modes ?? []) {
      if (!(MODES as readonly string[]).includes(m)) throw new DockerApiError(400, `Invalid filter: 'mode'='${m}'`)
    }
    const list = await manager.services.list({
      ...optionalList('idPrefixes', filters.get('id')),
      ...optionalList('namePrefixes', filters.get('name')),
      ...(modes === undefined ? {} : { modes: modes.map((m) => MODE_KIND[m as (typeof MODES)[number]]) }),
    })
    const services = list.filter((s) => matchLabels(filters, s.spec.annotations.labels))
    if (!boolQuery(q['status']) || services.length === 0) return services.map((s) => serviceToDocker(s))
    const tasks = await manager.tasks.list({ serviceIds: services.map((s) => s.id) })
    return services.map((s) => serviceToDocker(s, { status: serviceStatus(s, tasks) }))
  })

  app.post('/services/create', async (req, reply) => {
    // X-Registry-Auth is ignored: nodes pull (or find) images themselves.
    const spec = await specFromBody(manager, req.body)
    const named: ServiceSpec = spec.annotations.name === '' ? { ...spec, annotations: { ...spec.annotations, name: `service-${randomBytes(5).toString('hex')}` } } : spec
    const created = await manager.services.create(named).catch((err: unknown) => {
      throw inDockerTerms(err)
    })
    void reply.code(201)
    return { ID: created.id }
  })

  app.get('/services/:id', async (req) => {
    const { id } = req.params as Params
    const service = await resolveService(manager, id ?? '')
    return serviceToDocker(service, { insertDefaults: boolQuery((req.query as Query)['insertDefaults']) })
  })

  app.post('/services/:id/update', async (req) => {
    const { id } = req.params as Params
    const q = req.query as Query
    const version = versionParam(q['version'])
    const rollback = q['rollback']
    if (rollback !== undefined && rollback !== '' && rollback !== 'previous') {
      throw new InvalidArgumentError('rollback', `must be "previous", got ${JSON.stringify(rollback)}`)
    }
    const service = await resolveService(manager, id ?? '')
    if (rollback === 'previous') {
      await manager.services.rollback(service.id, { version })
      return { Warnings: [] }
    }
    const spec = keepBeyondDocker(service.spec, await specFromBody(manager, withoutEchoedVersion(req.body, version)))
    await manager.services.update(service.id, spec, { version }).catch((err: unknown) => {
      throw inDockerTerms(err)
    })
    return { Warnings: [] }
  })

  app.delete('/services/:id', async (req, reply) => {
    const { id } = req.params as Params
    const service = await resolveService(manager, id ?? '')
    await manager.services.remove(service.id)
    void reply.code(200)
    return ''
  })

  app.get('/services/:id/logs', async (req, reply) => {
    const { id } = req.params as Params
    const q = logsQuery(req.query as Query)
    const service = await resolveService(manager, id ?? '')
    await streamLogs(manager, reply, ctx.signal, { serviceId: service.id, tty: service.spec.task.container?.tty === true }, q)
  })
}
