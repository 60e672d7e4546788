/**
 * Docker Engine API routes: `/networks` — overlay create, list (filters `driver`, `id`, `label`,
 * `name`, `scope`, `type`), inspect, remove (refused while used). Every network of a cluster is a
 * swarm-scoped overlay; there are no local `bridge`, `host` or `none` networks.
 *
 * @module
 */
import type { Network } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { DockerApp, RouteContext } from '../context.ts'
import { matchLabels, matchOne, parseFilters, type DockerFilters } from '../filters.ts'
import { networkSpecFromDocker, networkToDocker } from '../translate/network.ts'
import { lookup } from '../translate/swarm-lookup.ts'

const NETWORK_FILTERS = ['driver', 'id', 'label', 'name', 'scope', 'type'] as const

type Query = Readonly<Record<string, string | undefined>>

/** Whether a network passes Docker's filters (`name` and `id` match substrings, as Docker's daemon; every network is `custom` and `swarm`). */
export function networkMatches(f: DockerFilters, n: Frozen<Network>): boolean {
  const d = networkToDocker(n)
  const contains = (name: string, value: string): boolean => (f.get(name) ?? [value]).some((w) => value.includes(w))
  return (
    contains('name', d.Name) &&
    contains('id', d.Id) &&
    matchOne(f, 'driver', d.Driver) &&
    matchOne(f, 'scope', 'swarm') &&
    matchOne(f, 'type', 'custom') &&
    matchLabels(f, d.Labels)
  )
}

/** Registers the networks routes. */
export function networksRoutes(app: DockerApp, ctx: RouteContext): void {
  const api = ctx.manager.networks

  app.post('/networks/create', async (req, reply) => {
    const created = await api.create(networkSpecFromDocker(req.body))
    void reply.code(201).send({ Id: created.id, Warning: '' })
  })

  app.get('/networks', async (req) => {
    const f = parseFilters((req.query as Query)['filters'], NETWORK_FILTERS)
    return (await api.list()).filter((n) => networkMatches(f, n)).map(networkToDocker)
  })

  app.get<{ Params: { id: string } }>('/networks/:id', async (req) => networkToDocker(await lookup('network', api, req.params.id)))

  app.delete<{ Params: { id: string } }>('/networks/:id', async (req, reply) => {
    const n = await lookup('network', api, req.params.id)
    await api.remove(n.id)
    void reply.code(204).send()
  })
}
