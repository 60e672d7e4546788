/**
 * Docker Engine API routes: `/nodes` — list (filters `id`, `label`, `membership`, `name`,
 * `node.label`, `role`), inspect, update (availability, role — a promotion or demotion — name and
 * labels, with `version`), remove (`force`).
 *
 * @module
 */
import { InvalidArgumentError, type Node } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { DockerApp, RouteContext } from '../context.ts'
import { matchOne, parseFilters, type DockerFilters } from '../filters.ts'
import { versionParam, withoutEchoedVersion } from '../translate/meta.ts'
import { nodeSpecFromDocker, nodeToDocker } from '../translate/node.ts'
import { queryFlag } from '../translate/swarm-json.ts'
import { tlsInfoOf, type DockerTlsInfo } from '../translate/swarm-tls.ts'
import { lookup } from '../translate/swarm-lookup.ts'

const NODE_FILTERS = ['id', 'label', 'membership', 'name', 'node.label', 'role'] as const

type Query = Readonly<Record<string, string | undefined>>

/** Whether `labels` have every `key` or `key=value` of `wanted`. */
function hasLabels(wanted: readonly string[] | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (wanted === undefined) return true
  return wanted.every((w) => {
    const eq = w.indexOf('=')
    if (eq < 0) return labels !== undefined && Object.hasOwn(labels, w)
    return labels?.[w.slice(0, eq)] === w.slice(eq + 1)
  })
}

/** Whether `node` passes Docker's node filters (`name` and `id` match prefixes, as Docker's daemon). */
export function nodeMatches(f: DockerFilters, node: Frozen<Node>): boolean {
  const names = f.get('name')
  if (names !== undefined) {
    const candidates = [node.spec.annotations.name, node.description?.hostname ?? ''].filter((n) => n !== '')
    if (!names.some((n) => candidates.some((c) => c.startsWith(n)))) return false
  }
  return (
    matchOne(f, 'id', node.id, true) &&
    matchOne(f, 'role', node.role) &&
    matchOne(f, 'membership', node.spec.membership) &&
    hasLabels(f.get('label'), node.description?.engine?.labels) &&
    hasLabels(f.get('node.label'), node.spec.annotations.labels)
  )
}

function checkFilterValues(f: DockerFilters): void {
  for (const r of f.get('role') ?? []) if (r !== 'manager' && r !== 'worker') throw new InvalidArgumentError('filters', `Invalid filter 'role=${r}'`)
  for (const v of f.get('membership') ?? []) {
    if (v !== 'accepted' && v !== 'pending') throw new InvalidArgumentError('filters', `Invalid filter 'membership=${v}'`)
  }
}

/** Registers the nodes routes. */
export function nodesRoutes(app: DockerApp, ctx: RouteContext): void {
  const m = ctx.manager
  const trustRoot = async (): Promise<DockerTlsInfo> => tlsInfoOf((await m.getCluster()).rootCa.caCert)

  app.get('/nodes', async (req) => {
    const f = parseFilters((req.query as Query)['filters'], NODE_FILTERS)
    checkFilterValues(f)
    const [nodes, root] = await Promise.all([m.nodes.list(), trustRoot()])
    return nodes.filter((n) => nodeMatches(f, n)).map((n) => nodeToDocker(n, root))
  })

  app.get<{ Params: { id: string } }>('/nodes/:id', async (req) => {
    const [node, root] = await Promise.all([lookup('node', m.nodes, req.params.id), trustRoot()])
    return nodeToDocker(node, root)
  })

  app.post<{ Params: { id: string } }>('/nodes/:id/update', async (req, reply) => {
    const version = versionParam((req.query as Query)['version'])
    const node = await lookup('node', m.nodes, req.params.id)
    const spec = nodeSpecFromDocker(withoutEchoedVersion(req.body, version), node.spec)
    await m.nodes.update(node.id, spec, { version })
    void reply.code(200).send()
  })

  app.delete<{ Params: { id: string } }>('/nodes/:id', async (req, reply) => {
    const force = queryFlag((req.query as Query)['force'], 'force')
    const node = await lookup('node', m.nodes, req.params.id)
    await m.nodes.remove(node.id, { force })
    void reply.code(200).send()
  })
}
