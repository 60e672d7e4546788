/**
 * The constraint enforcer's decision, pure: which tasks on a node no longer fit it — placement
 * constraints, CPU and memory reservations, assigned generic resources.
 *
 * @module
 */
import { NodeAvailability, TaskState, matchConstraints, parseConstraints } from '@swarmkit-ts/api'
import type { GenericResource, Node, Service, Task, TaskSpec } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'

/** The observed status message of a task the enforcer rejects (SwarmKit's). */
export const CONSTRAINT_REJECT_MESSAGE = 'task rejected by constraint enforcer'

/** The observed status error of a task the enforcer rejects (SwarmKit's). */
export const CONSTRAINT_REJECT_ERR = 'assigned node no longer meets constraints'

/** A generic resource still available on the node while tasks are counted (discrete values shrink). */
type Available = { kind: string; namedValue: string } | { kind: string; discreteValue: number }

/**
 * Whether the enforcer looks at `task` at all: desired state in ASSIGNED..COMPLETE (not being
 * stopped) and not yet stopped (observed before COMPLETE; a finished job task holds nothing).
 */
export function isEnforced(task: Frozen<Task>): boolean {
  return (
    task.desiredState >= TaskState.ASSIGNED && task.desiredState <= TaskState.COMPLETE && task.status.state < TaskState.COMPLETE
  )
}

/** Whether `node` satisfies the constraints of `spec` (none, or unparsable as in SwarmKit: yes). */
function placementHolds(spec: Frozen<TaskSpec>, node: Frozen<Node>): boolean {
  const expressions = spec.placement?.constraints
  if (expressions === undefined || expressions.length === 0) return true
  let constraints
  try {
    constraints = parseConstraints(expressions)
  } catch {
    return true
  }
  return matchConstraints(constraints, node)
}

/** Whether `want` is among `available` (SwarmKit's `HasResource`): the named value is advertised, or the discrete amount is enough. */
function hasResource(want: Frozen<GenericResource>, available: readonly Available[]): boolean {
  for (const a of available) {
    if (a.kind !== want.kind) continue
    if ('discreteValue' in a) return 'discreteValue' in want && want.discreteValue <= a.discreteValue
    if (!('namedValue' in want)) return false
    if (want.namedValue === a.namedValue) return true
  }
  return false
}

/** Takes `claimed` out of `available` (SwarmKit's `ConsumeNodeResources`): a named value goes, a discrete amount shrinks and goes at 0. */
function consume(available: Available[], claimed: readonly Frozen<GenericResource>[]): Available[] {
  return available.filter((a) => {
    for (const c of claimed) {
      if (c.kind !== a.kind) continue
      if ('discreteValue' in c) {
        if (!('discreteValue' in a)) continue
        a.discreteValue -= c.discreteValue
        if (a.discreteValue <= 0) return false
      } else if ('namedValue' in a && a.namedValue === c.namedValue) {
        return false
      }
    }
    return true
  })
}

/** Oldest first (creation time, then id): when resources run short, the newest tasks are the excess. */
function oldestFirst(tasks: readonly Frozen<Task>[]): Frozen<Task>[] {
  return [...tasks].sort((a, b) => a.meta.createdAt - b.meta.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/**
 * The tasks on `node` that it no longer fits (SwarmKit's `rejectNoncompliantTasks`), for an
 * ACTIVE node only (a paused node keeps its tasks; a drained one is the orchestrators' job).
 * Each enforced task, oldest first, must satisfy the placement constraints of its service's
 * CURRENT spec (`service(id)`; a serviceless task or one whose service is gone: its own spec),
 * its CPU and memory reservations must fit in what the node's `description.resources` has left
 * after the tasks before it, and its assigned generic resources must still be available. A task
 * that does not fit is returned and consumes nothing; the others keep their share.
 */
export function noncompliantTasks(
  node: Frozen<Node>,
  tasks: readonly Frozen<Task>[],
  service: (id: string) => Frozen<Service> | undefined,
): Frozen<Task>[] {
  if (node.spec.availability !== NodeAvailability.ACTIVE) return []
  const resources = node.description?.resources
  let cpu = resources?.nanoCpus ?? 0
  let memory = resources?.memoryBytes ?? 0
  let generic: Available[] = (resources?.generic ?? []).map((g) => ({ ...g }))
  const out: Frozen<Task>[] = []
  for (const t of oldestFirst(tasks)) {
    if (!isEnforced(t)) continue
    const spec = (t.serviceId === '' ? undefined : service(t.serviceId))?.spec.task ?? t.spec
    if (!placementHolds(spec, node)) {
      out.push(t)
      continue
    }
    const reservations = t.spec.resources?.reservations
    if (reservations !== undefined) {
      const wantMemory = reservations.memoryBytes ?? 0
      const wantCpu = reservations.nanoCpus ?? 0
      if (wantMemory > memory || wantCpu > cpu) {
        out.push(t)
        continue
      }
      memory -= wantMemory
      cpu -= wantCpu
    }
    const assigned = t.assignedGenericResources
    if (assigned !== undefined && assigned.length > 0) {
      if (!assigned.every((g) => hasResource(g, generic))) {
        out.push(t)
        continue
      }
      generic = consume(generic, assigned)
    }
  }
  return out
}
