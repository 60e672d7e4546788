/**
 * The query of `GET /events`: `since` / `until` (Unix seconds with an optional fraction, as the
 * CLI sends them) and `filters`, matched as dockerd matches them — `type`, `event` and `scope`
 * exactly; `container`, `service`, `node`, `secret`, `config`, `network` (and `daemon`, `plugin`,
 * `volume`) against the actor's ID or `name` attribute, equal or as a prefix; `image` against a
 * container's image (with or without its tag); `label` against every attribute.
 *
 * @module
 */
import { DockerApiError } from '../errors.ts'
import { matchLabels, parseFilters, type DockerFilters } from '../filters.ts'
import type { DockerEvent } from './event.ts'

/** The filter names `GET /events` accepts (dockerd's). */
export const EVENT_FILTERS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'] as const

/**
 * A `since` / `until` value as nanoseconds since the epoch: `seconds` or `seconds.fraction`
 * (dockerd's `timetypes.ParseTimestamps`); undefined when absent or empty. 400 naming the
 * parameter otherwise.
 */
export function parseEventTime(name: 'since' | 'until', raw: unknown): bigint | undefined {
  if (raw === undefined || raw === '') return undefined
  const m = typeof raw === 'string' ? /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(raw) : null
  if (m === null) throw new DockerApiError(400, `invalid ${name} time ${JSON.stringify(raw)}: must be Unix seconds with an optional fraction (e.g. 1700000000.123456789)`)
  const seconds = BigInt(m[1] ?? '0')
  const fraction = m[2] ?? ''
  const nanos = fraction === '' ? 0n : BigInt(fraction.padEnd(9, '0'))
  return seconds * 1_000_000_000n + (seconds < 0n ? -nanos : nanos)
}

/** dockerd's `FuzzyMatch`: no values, or a value equal to `source` or a prefix of it. */
function fuzzy(filters: DockerFilters, name: string, source: string | undefined): boolean {
  const wanted = filters.get(name)
  if (wanted === undefined) return true
  if (source === undefined) return false
  return wanted.some((w) => source === w || source.startsWith(w))
}

/** dockerd's `ExactMatch`: no values, or a value equal to `source`. */
function exact(filters: DockerFilters, name: string, source: string | undefined): boolean {
  const wanted = filters.get(name)
  if (wanted === undefined) return true
  return source !== undefined && wanted.includes(source)
}

/** An image reference without its tag or digest (`busybox:1.36` → `busybox`). */
function stripTag(image: string): string {
  const at = image.indexOf('@')
  const ref = at >= 0 ? image.slice(0, at) : image
  const colon = ref.lastIndexOf(':')
  return colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref
}

/** Whether `ev` passes `filters` (parsed with {@link EVENT_FILTERS}). */
export function matchEvent(filters: DockerFilters, ev: DockerEvent): boolean {
  const name = ev.Actor.Attributes['name']
  const byName = (filter: string): boolean => fuzzy(filters, filter, ev.Actor.ID) || fuzzy(filters, filter, name)
  const image = ev.Actor.Attributes['image']
  return (
    exact(filters, 'event', ev.Action) &&
    exact(filters, 'type', ev.Type) &&
    exact(filters, 'scope', ev.scope) &&
    ['daemon', 'container', 'plugin', 'volume', 'network', 'node', 'service', 'secret', 'config'].every(byName) &&
    (exact(filters, 'image', ev.Actor.ID) || exact(filters, 'image', image) || exact(filters, 'image', image === undefined ? undefined : stripTag(image))) &&
    matchLabels(filters, ev.Actor.Attributes)
  )
}

/** The `filters` parameter of `GET /events` (400 `invalid filter 'x'` for a name dockerd does not know). */
export function parseEventFilters(raw: unknown): DockerFilters {
  return parseFilters(raw, EVENT_FILTERS)
}
