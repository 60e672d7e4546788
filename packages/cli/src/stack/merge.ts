/**
 * Merging several compose files (`-c a.yml -c b.yml`) in order, with docker's rules
 * (docker/cli `compose/loader/merge.go`): mappings merge key by key, a later scalar or list
 * replaces an earlier one, except
 * - a service's `environment`, `labels`, `deploy.labels` and `networks` merge by key, whichever
 *   form (list or mapping) each file uses;
 * - a service's `ports` merge by published port, `secrets` and `configs` by source, `volumes` by
 *   target: an entry of a later file replaces the earlier one with the same key, others are kept.
 *
 * @module
 */
import { child, fail, item, type LMap, type LNode, type LScalar, type Loc } from './tree.ts'

/** Merges located compose files in order (later files win). */
export function mergeComposeFiles(files: readonly LMap[]): LMap {
  const [first, ...rest] = files.map(normalizeFile)
  if (first === undefined) throw new Error('mergeComposeFiles: no files')
  return rest.reduce((base, next) => mergeMap(base, next, ''), first)
}

/** Paths (with `*` for any service name) merged by key rather than replaced. */
const KEYED: Readonly<Record<string, (n: LNode) => string>> = {
  ports: (n) => (n.kind === 'map' ? scalarText(n.entries.get('published')) || `target:${scalarText(n.entries.get('target'))}` : publishedOf(scalarText(n))),
  secrets: (n) => (n.kind === 'map' ? scalarText(n.entries.get('source')) : scalarText(n)),
  configs: (n) => (n.kind === 'map' ? scalarText(n.entries.get('source')) : scalarText(n)),
  volumes: (n) => (n.kind === 'map' ? scalarText(n.entries.get('target')) : targetOfVolume(scalarText(n))),
}

function scalarText(n: LNode | undefined): string {
  return n?.kind === 'scalar' && n.value !== null ? String(n.value) : ''
}

/** The published part of a short port (`8080:80/tcp` → `8080`; `80` alone keys as itself). */
function publishedOf(short: string): string {
  const parts = short.split('/')[0]?.split(':') ?? []
  return parts.length > 1 ? (parts[parts.length - 2] ?? short) : short
}

function targetOfVolume(short: string): string {
  const parts = short.split(':')
  return parts.length > 1 ? (parts[1] ?? short) : short
}

function mergeMap(base: LMap, next: LMap, path: string): LMap {
  const entries = new Map(base.entries)
  const keyLocs = new Map(base.keyLocs)
  for (const [k, v] of next.entries) {
    const old = entries.get(k)
    const p = child(path, k)
    entries.set(k, old === undefined ? v : mergeValue(old, v, p))
    keyLocs.set(k, next.keyLocs.get(k) ?? v.loc)
  }
  return { kind: 'map', entries, keyLocs, loc: base.loc }
}

function mergeValue(base: LNode, next: LNode, path: string): LNode {
  if (base.kind === 'map' && next.kind === 'map') return mergeMap(base, next, path)
  const parts = path.split('.')
  const keyed = parts.length === 3 && parts[0] === 'services' ? KEYED[parts[2] ?? ''] : undefined
  if (keyed !== undefined && base.kind === 'seq' && next.kind === 'seq') {
    const byKey = new Map<string, LNode>()
    for (const x of [...base.items, ...next.items]) byKey.set(keyed(x), x)
    return { kind: 'seq', items: [...byKey.values()], loc: next.loc }
  }
  return next
}

/** Service keys whose list form (`KEY=value` or names) becomes a mapping before merging. */
const TO_MAP = ['environment', 'labels', 'networks'] as const

function normalizeFile(file: LMap): LMap {
  const services = file.entries.get('services')
  if (services?.kind !== 'map') return file
  const normalized = new Map<string, LNode>()
  for (const [name, svc] of services.entries) {
    normalized.set(name, svc.kind === 'map' ? normalizeService(svc, child('services', name)) : svc)
  }
  const entries = new Map(file.entries)
  entries.set('services', { ...services, entries: normalized })
  return { ...file, entries }
}

function normalizeService(svc: LMap, path: string): LMap {
  const entries = new Map(svc.entries)
  for (const key of TO_MAP) {
    const v = entries.get(key)
    if (v?.kind === 'seq') entries.set(key, listToMap(v.items, v.loc, child(path, key), key !== 'networks'))
  }
  const deploy = entries.get('deploy')
  const labels = deploy?.kind === 'map' ? deploy.entries.get('labels') : undefined
  if (deploy?.kind === 'map' && labels?.kind === 'seq') {
    const d = new Map(deploy.entries)
    d.set('labels', listToMap(labels.items, labels.loc, child(path, 'deploy.labels'), true))
    entries.set('deploy', { ...deploy, entries: d })
  }
  return { ...svc, entries }
}

/** `["A=1", "B"]` → `{ A: "1", B: null }`; names (`networks`) → `{ name: null }`. */
function listToMap(items: readonly LNode[], loc: Loc, path: string, assignments: boolean): LMap {
  const entries = new Map<string, LNode>()
  const keyLocs = new Map<string, Loc>()
  items.forEach((x, i) => {
    if (x.kind !== 'scalar' || x.value === null) fail(x, item(path, i), 'must be a string')
    const s = String(x.value)
    const eq = assignments ? s.indexOf('=') : -1
    if (eq === 0) fail(x, item(path, i), 'must be KEY=value')
    const key = eq < 0 ? s : s.slice(0, eq)
    const value: LScalar = { kind: 'scalar', value: eq < 0 ? null : s.slice(eq + 1), loc: x.loc }
    entries.set(key, value)
    keyLocs.set(key, x.loc)
  })
  return { kind: 'map', entries, keyLocs, loc }
}
