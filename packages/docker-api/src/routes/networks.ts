/**
 * Docker Engine API routes: `/networks` — overlay create, list (filters `driver`, `id`, `label`,
 * `name`, `scope`, `type`), inspect, remove (refused while used), prune (the unused ones but the
 * ingress network, filters `label`, `label!`, `until`). Every network of a cluster is a
 * swarm-scoped overlay; there are no local `bridge`, `host` or `none` networks.
 *
 * @module
 */
import { ErrorName, InvalidArgumentError, type Network } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { DockerApp, RouteContext } from '../context.ts'
import { matchLabels, matchOne, parseFilters, type DockerFilters } from '../filters.ts'
import { parseDockerTime } from '../translate/meta.ts'
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

const PRUNE_FILTERS = ['label', 'label!', 'until'] as const

/** The `until` filter of a prune as ms since the epoch: a Docker time, Unix seconds, or a Go duration back from `now` (`24h`, `90m`). */
function untilMs(v: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000
  const d = /^(\d+)(h|m|s)$/.exec(v)
  if (d !== null) return now - Number(d[1]) * { h: 3_600_000, m: 60_000, s: 1000 }[d[2] as 'h' | 'm' | 's']
  const ms = parseDockerTime(v)
  if (ms === undefined) throw new InvalidArgumentError('filters', `invalid filter 'until=${v}'`)
  return ms
}

/** Whether a network passes prune filters: older than `until`, with every `label`, with no `label!`. */
function prunable(f: DockerFilters, n: Frozen<Network>, now: number): boolean {
  if (n.spec.ingress === true) return false
  const until = f.get('until')
  if (until !== undefined && !until.every((u) => n.meta.createdAt < untilMs(u, now))) return false
  const labels = n.spec.annotations.labels
  const without = f.get('label!') ?? []
  if (without.some((w) => matchLabels(new Map([['label', [w]]]), labels))) return false
  return matchLabels(f, labels)
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

  app.post('/networks/prune', async (req) => {
    const f = parseFilters((req.query as Query)['filters'], PRUNE_FILTERS)
    const now = Date.now()
    const deleted: string[] = []
    for (const n of await api.list()) {
      if (!prunable(f, n, now)) continue
      try {
        await api.remove(n.id)
        deleted.push(n.spec.annotations.name)
      } catch (err) {
        // In use (or gone meanwhile): not pruned, as Docker skips it.
        if (!(err instanceof Error) || (err.name !== ErrorName.FailedPrecondition && err.name !== ErrorName.NotFound)) throw err
      }
    }
    return { NetworksDeleted: deleted }
  })

  app.get<{ Params: { id: string } }>('/networks/:id', async (req) => networkToDocker(await lookup('network', api, req.params.id)))

  app.delete<{ Params: { id: string } }>('/networks/:id', async (req, reply) => {
    const n = await lookup('network', api, req.params.id)
    await api.remove(n.id)
    void reply.code(204).send()
  })
}
