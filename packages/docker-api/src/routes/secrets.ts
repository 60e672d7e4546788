/**
 * Docker Engine API routes: `/secrets` — create (base64 `Data`), list (filters `id`, `label`,
 * `name`, `names`), inspect, update (labels only, with `version`), remove (refused while a service
 * uses it). {@link payloadRoutes} serves `/configs` the same way.
 *
 * @module
 */
import type { Secret, SecretSpec, Config, ConfigSpec } from '@swarmkit-ts/api'
import type { SecretsApi } from '@swarmkit-ts/core'
import type { Frozen } from '@swarmkit-ts/store'
import type { DockerApp, RouteContext } from '../context.ts'
import { matchLabels, matchOne, parseFilters, type DockerFilters } from '../filters.ts'
import { versionParam, withoutEchoedVersion } from '../translate/meta.ts'
import { secretSpecFromDocker, secretToDocker } from '../translate/secret.ts'
import { lookup } from '../translate/swarm-lookup.ts'

const PAYLOAD_FILTERS = ['id', 'label', 'name', 'names'] as const

type Query = Readonly<Record<string, string | undefined>>

/** Whether a secret or config passes Docker's filters (`id` and `name` match prefixes, `names` exact names). */
export function payloadMatches(f: DockerFilters, obj: { readonly id: string; readonly spec: { readonly annotations: { readonly name: string; readonly labels?: Readonly<Record<string, string>> } } }): boolean {
  const name = obj.spec.annotations.name
  return matchOne(f, 'id', obj.id, true) && matchOne(f, 'name', name, true) && matchOne(f, 'names', name) && matchLabels(f, obj.spec.annotations.labels)
}

/** How one payload resource (secrets or configs) is read and written. */
export interface PayloadResource<T extends Secret | Config, S extends SecretSpec | ConfigSpec> {
  /** `secret` or `config`: the path (`/secrets`) and the error wording (`secret x not found`). */
  readonly kind: 'secret' | 'config'
  readonly api: SecretsApi<T, S>
  readonly toDocker: (obj: Frozen<T>) => unknown
  readonly fromDocker: (body: unknown) => S
}

/** Registers create, list, inspect, update and delete of one payload resource. */
export function payloadRoutes<T extends Secret | Config, S extends SecretSpec | ConfigSpec>(app: DockerApp, r: PayloadResource<T, S>): void {
  const base = `/${r.kind}s`
  app.post(`${base}/create`, async (req, reply) => {
    const created = await r.api.create(r.fromDocker(req.body))
    void reply.code(201).send({ ID: created.id })
  })
  app.get(base, async (req) => {
    const f = parseFilters((req.query as Query)['filters'], PAYLOAD_FILTERS)
    return (await r.api.list()).filter((o) => payloadMatches(f, o)).map((o) => r.toDocker(o))
  })
  app.get<{ Params: { id: string } }>(`${base}/:id`, async (req) => r.toDocker(await lookup(r.kind, r.api, req.params.id)))
  app.post<{ Params: { id: string } }>(`${base}/:id/update`, async (req, reply) => {
    const version = versionParam((req.query as Query)['version'])
    const spec = r.fromDocker(withoutEchoedVersion(req.body, version))
    const cur = await lookup(r.kind, r.api, req.params.id)
    await r.api.update(cur.id, spec, { version })
    void reply.code(200).send()
  })
  app.delete<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
    const cur = await lookup(r.kind, r.api, req.params.id)
    await r.api.remove(cur.id)
    void reply.code(204).send()
  })
}

/** Registers the secrets routes. */
export function secretsRoutes(app: DockerApp, ctx: RouteContext): void {
  payloadRoutes<Secret, SecretSpec>(app, { kind: 'secret', api: ctx.manager.secrets, toDocker: secretToDocker, fromDocker: secretSpecFromDocker })
}
