/**
 * `-f/--filter key=value` of the listings, as Docker reads them: `name` and `id` match prefixes,
 * `label` is `key` or `key=value`; a key given twice matches either value. Unknown keys are a
 * usage error naming `--filter`.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { CommonFilters, NodeFilters, ServiceFilters } from '@swarmkit-ts/core'
import { parseChoice, parseKeyValue } from './values.ts'

/** Adds a value to a repeatable `--filter`. */
export function collectFilter(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** The `--filter` values grouped by key; refuses keys outside `allowed`. */
function group(values: readonly string[] | undefined, allowed: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const v of values ?? []) {
    const [key, value] = parseKeyValue('--filter', v)
    if (!allowed.includes(key)) throw new InvalidArgumentError('--filter', `unknown filter ${JSON.stringify(key)}: use ${allowed.join(', ')}`)
    out.set(key, [...(out.get(key) ?? []), value])
  }
  return out
}

function common(g: Map<string, string[]>): CommonFilters {
  const names = g.get('name')
  const ids = g.get('id')
  const labels = g.get('label')
  return {
    ...(names === undefined ? {} : { namePrefixes: names }),
    ...(ids === undefined ? {} : { idPrefixes: ids }),
    ...(labels === undefined ? {} : { labels: Object.fromEntries(labels.map((l) => parseKeyValue('--filter', l))) }),
  }
}

/** Filters of `secret ls`, `config ls`, `network ls`: name, id, label. */
export function commonFilters(values: readonly string[] | undefined): CommonFilters {
  return common(group(values, ['name', 'id', 'label']))
}

const MODES = { replicated: 'replicated', global: 'global', 'replicated-job': 'replicatedJob', 'global-job': 'globalJob' } as const

/** Filters of `service ls`: name, id, label, mode. */
export function serviceFilters(values: readonly string[] | undefined): ServiceFilters {
  const g = group(values, ['name', 'id', 'label', 'mode'])
  const modes = g.get('mode')?.map((m) => MODES[parseChoice('--filter', m, Object.keys(MODES) as (keyof typeof MODES)[])])
  return { ...common(g), ...(modes === undefined ? {} : { modes }) }
}

/** Filters of `node ls`: id, label, role, membership. */
export function nodeFilters(values: readonly string[] | undefined): NodeFilters {
  const g = group(values, ['id', 'label', 'role', 'membership'])
  const roles = g.get('role')?.map((r) => parseChoice('--filter', r, ['manager', 'worker'] as const))
  const memberships = g.get('membership')?.map((r) => parseChoice('--filter', r, ['accepted', 'pending'] as const))
  return { ...common(g), ...(roles === undefined ? {} : { roles }), ...(memberships === undefined ? {} : { memberships }) }
}
