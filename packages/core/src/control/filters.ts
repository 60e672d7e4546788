/**
 * The list filters of the control API as pure predicates, their validation, and the orders lists
 * are returned in.
 *
 * @module
 */
import { InvalidArgumentError, NodeAvailability, NodeMembership, NodeRole, TASK_STATES } from '@swarmkit-ts/api'
import type { Annotations, Node, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { CommonFilters, NodeFilters, ServiceFilters, TaskFilters } from './control-api.ts'

/** The service modes a filter may name. */
export const SERVICE_MODES = ['replicated', 'global', 'replicatedJob', 'globalJob'] as const

function stringList(v: unknown, field: string): void {
  if (v === undefined) return
  if (!Array.isArray(v)) throw new InvalidArgumentError(field, 'must be an array of strings')
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'string') throw new InvalidArgumentError(`${field}[${i}]`, 'must be a string')
  })
}

function oneOfList(v: unknown, field: string, allowed: readonly unknown[]): void {
  if (v === undefined) return
  if (!Array.isArray(v)) throw new InvalidArgumentError(field, 'must be an array')
  v.forEach((x: unknown, i) => {
    if (!allowed.includes(x)) throw new InvalidArgumentError(`${field}[${i}]`, `must be one of ${allowed.map(String).join(', ')}`)
  })
}

/** Checks the filters every list accepts (`InvalidArgumentError` naming `filters.<name>`). */
export function validateCommonFilters(f: CommonFilters | undefined): void {
  if (f === undefined) return
  if (typeof f !== 'object' || f === null) throw new InvalidArgumentError('filters', 'must be an object')
  stringList(f.names, 'filters.names')
  stringList(f.namePrefixes, 'filters.namePrefixes')
  stringList(f.idPrefixes, 'filters.idPrefixes')
  if (f.labels !== undefined) {
    if (typeof f.labels !== 'object' || f.labels === null || Array.isArray(f.labels)) throw new InvalidArgumentError('filters.labels', 'must be a record of strings')
    for (const [k, v] of Object.entries(f.labels)) {
      if (typeof v !== 'string') throw new InvalidArgumentError(`filters.labels.${k}`, 'must be a string')
    }
  }
}

/** Checks service filters. */
export function validateServiceFilters(f: ServiceFilters | undefined): void {
  validateCommonFilters(f)
  oneOfList(f?.modes, 'filters.modes', SERVICE_MODES)
}

/** Checks task filters. */
export function validateTaskFilters(f: TaskFilters | undefined): void {
  validateCommonFilters(f)
  stringList(f?.serviceIds, 'filters.serviceIds')
  stringList(f?.nodeIds, 'filters.nodeIds')
  oneOfList(f?.desiredStates, 'filters.desiredStates', TASK_STATES)
}

/** Checks node filters. */
export function validateNodeFilters(f: NodeFilters | undefined): void {
  validateCommonFilters(f)
  oneOfList(f?.roles, 'filters.roles', Object.values(NodeRole))
  oneOfList(f?.memberships, 'filters.memberships', Object.values(NodeMembership))
  oneOfList(f?.availabilities, 'filters.availabilities', Object.values(NodeAvailability))
}

const lower = (s: string): string => s.toLowerCase()

/** Whether an object with `id`, `name` and `annotations` passes the common filters. */
export function matchesCommon(f: CommonFilters | undefined, id: string, name: string, annotations: Frozen<Annotations> | undefined): boolean {
  if (f === undefined) return true
  const n = lower(name)
  if (f.names !== undefined && f.names.length > 0 && !f.names.some((x) => lower(x) === n)) return false
  if (f.namePrefixes !== undefined && f.namePrefixes.length > 0 && !f.namePrefixes.some((x) => n.startsWith(lower(x)))) return false
  if (f.idPrefixes !== undefined && f.idPrefixes.length > 0 && !f.idPrefixes.some((x) => id.startsWith(x))) return false
  if (f.labels !== undefined) {
    const labels = annotations?.labels ?? {}
    for (const [k, v] of Object.entries(f.labels)) {
      const have = labels[k]
      if (have === undefined || (v !== '' && have !== v)) return false
    }
  }
  return true
}

/** The mode of a service spec, as a filter names it. */
export function serviceMode(s: Frozen<Service>): (typeof SERVICE_MODES)[number] {
  const m = s.spec.mode
  if ('replicated' in m) return 'replicated'
  if ('global' in m) return 'global'
  if ('replicatedJob' in m) return 'replicatedJob'
  return 'globalJob'
}

/** Whether a service passes `f`. */
export function matchesService(f: ServiceFilters | undefined, s: Frozen<Service>): boolean {
  if (!matchesCommon(f, s.id, s.spec.annotations.name, s.spec.annotations)) return false
  return f?.modes === undefined || f.modes.length === 0 || f.modes.includes(serviceMode(s))
}

/** Whether a task passes `f` (its name is its annotations' name; labels are its annotations'). */
export function matchesTask(f: TaskFilters | undefined, t: Frozen<Task>): boolean {
  if (!matchesCommon(f, t.id, t.annotations.name, t.annotations)) return false
  if (f?.serviceIds !== undefined && f.serviceIds.length > 0 && !f.serviceIds.includes(t.serviceId)) return false
  if (f?.nodeIds !== undefined && f.nodeIds.length > 0 && !f.nodeIds.includes(t.nodeId)) return false
  if (f?.desiredStates !== undefined && f.desiredStates.length > 0 && !f.desiredStates.includes(t.desiredState)) return false
  return true
}

/** Whether a node passes `f` (its name is its hostname; labels are its spec's). */
export function matchesNode(f: NodeFilters | undefined, n: Frozen<Node>): boolean {
  if (!matchesCommon(f, n.id, n.description?.hostname ?? '', n.spec.annotations)) return false
  if (f?.roles !== undefined && f.roles.length > 0 && !f.roles.includes(n.role)) return false
  if (f?.memberships !== undefined && f.memberships.length > 0 && !f.memberships.includes(n.spec.membership)) return false
  if (f?.availabilities !== undefined && f.availabilities.length > 0 && !f.availabilities.includes(n.spec.availability)) return false
  return true
}

/** Compares two strings by code units (a stable order independent of locale). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Sorts objects with annotations by name, then id. */
export function byName<T extends { readonly id: string; readonly spec: { readonly annotations: Frozen<Annotations> } }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => compareStrings(a.spec.annotations.name, b.spec.annotations.name) || compareStrings(a.id, b.id))
}

/** Sorts tasks by service, slot, then id. */
export function byServiceSlot(list: readonly Frozen<Task>[]): Frozen<Task>[] {
  return [...list].sort((a, b) => compareStrings(a.serviceId, b.serviceId) || a.slot - b.slot || compareStrings(a.id, b.id))
}
