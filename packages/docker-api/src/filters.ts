/**
 * Docker's `filters` query parameter: a JSON object from filter name to values, either
 * `{"name": {"web": true}}` (current clients) or `{"name": ["web"]}` (older ones).
 *
 * @module
 */
import { DockerApiError } from './errors.ts'

/** Parsed filters: each name with its values (in the order given). */
export type DockerFilters = ReadonlyMap<string, readonly string[]>

/**
 * Parses the `filters` query parameter, refusing (400, Docker's wording) a name not in `allowed`
 * and anything that is not one of the two JSON shapes.
 */
export function parseFilters(raw: unknown, allowed: readonly string[]): DockerFilters {
  const out = new Map<string, string[]>()
  if (raw === undefined || raw === '') return out
  if (typeof raw !== 'string') throw new DockerApiError(400, 'invalid filter: the filters parameter must be given once, as JSON')
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new DockerApiError(400, `invalid filter: ${JSON.stringify(raw)} is not JSON`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new DockerApiError(400, 'invalid filter: must be a JSON object of filter names')
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!allowed.includes(name)) throw new DockerApiError(400, `invalid filter '${name}'`)
    let values: string[]
    if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) values = value
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      values = Object.entries(value as Record<string, unknown>)
        .filter(([, on]) => on === true)
        .map(([v]) => v)
    } else throw new DockerApiError(400, `invalid filter '${name}': values must be a list or an object of strings`)
    if (values.length > 0) out.set(name, values)
  }
  return out
}

/** Whether `labels` match every `label` filter value (`key` present, or `key=value` equal). */
export function matchLabels(filters: DockerFilters, labels: Readonly<Record<string, string>> | undefined): boolean {
  const wanted = filters.get('label')
  if (wanted === undefined) return true
  return wanted.every((w) => {
    const eq = w.indexOf('=')
    if (eq < 0) return labels !== undefined && Object.hasOwn(labels, w)
    return labels?.[w.slice(0, eq)] === w.slice(eq + 1)
  })
}

/**
 * Whether `value` matches one of the filter's values (no filter: true). With `prefix`, a value
 * matches when it starts with a filter value (Docker's `id` filters match ID prefixes).
 */
export function matchOne(filters: DockerFilters, name: string, value: string | undefined, prefix = false): boolean {
  const wanted = filters.get(name)
  if (wanted === undefined) return true
  if (value === undefined) return false
  return wanted.some((w) => (prefix ? value.startsWith(w) : value === w))
}
