/**
 * The sequential model of services the control API must be linearizable against: one register
 * per service name holding what the harness wrote (a token naming the write, the replica count,
 * whether a failed update rolls back) and the previous value (`previousSpec`, for rollbacks).
 *
 * The cluster may roll a service back by itself (an update whose failure action is `rollback`
 * and whose new tasks fail): no operation of the history records it, so the model is
 * nondeterministic — its state is the set of register states the cluster may be in, and a
 * read may observe the rolled-back value.
 *
 * @module
 */
import type { Model, StepResult } from '@swarmkit-ts/testkit'

/** What the harness writes into a service and reads back. */
export interface ServiceValue {
  /** Names the write that produced the spec (a label the harness sets). */
  readonly token: string
  /** The replica count; `null` for a global service. */
  readonly replicas: number | null
  /** Whether a failing update of this spec rolls back by itself (`update.failureAction: 'rollback'`). */
  readonly rollbackOnFailure: boolean
}

/** A control call on one service, by name (the harness never reuses a name). */
export type ServiceOpInput =
  | { readonly type: 'create'; readonly name: string; readonly value: ServiceValue }
  | { readonly type: 'update'; readonly name: string; readonly value: ServiceValue }
  | { readonly type: 'scale'; readonly name: string; readonly replicas: number }
  | { readonly type: 'rollback'; readonly name: string }
  | { readonly type: 'remove'; readonly name: string }
  | { readonly type: 'get'; readonly name: string }

/** The typed errors a control call can answer with that prove it changed nothing. */
export type ServiceOpError = 'not-found' | 'already-exists' | 'failed-precondition'

/** What a call returned: success (with the value read, for `get`) or a definite refusal. */
export type ServiceOpOutput = { readonly ok: true; readonly value?: ServiceValue } | { readonly ok: false; readonly error: ServiceOpError }

/** One register: absent, or the current value with the previous one. */
type Register = null | { readonly cur: ServiceValue; readonly prev: ServiceValue | null; readonly auto: boolean }

/** The possible registers (deduplicated, sorted by key). */
export type ServiceModelState = readonly Register[]

const valueKey = (v: ServiceValue | null): string => (v === null ? '-' : `${v.token}/${v.replicas ?? 'g'}/${v.rollbackOnFailure ? 'r' : 'p'}`)
const registerKey = (r: Register): string => (r === null ? 'absent' : `${valueKey(r.cur)}<${valueKey(r.prev)}${r.auto ? '!' : ''}`)

function sameValue(a: ServiceValue, b: ServiceValue): boolean {
  return a.token === b.token && a.replicas === b.replicas && a.rollbackOnFailure === b.rollbackOnFailure
}

/** The registers reachable without any recorded operation: an automatic rollback. */
function closure(states: ServiceModelState): Register[] {
  const out = [...states]
  for (const r of states) if (r !== null && r.auto && r.prev !== null) out.push({ cur: r.prev, prev: null, auto: false })
  return out
}

type Outcome = { readonly next: Register } | { readonly error: ServiceOpError }

/** The one outcome of `input` on register `r` (the model is deterministic given the register). */
function apply(r: Register, input: ServiceOpInput): Outcome & { readonly value?: ServiceValue } {
  if (input.type === 'create') return r === null ? { next: { cur: input.value, prev: null, auto: input.value.rollbackOnFailure } } : { error: 'already-exists' }
  if (r === null) return { error: 'not-found' }
  switch (input.type) {
    case 'get':
      return { next: r, value: r.cur }
    case 'update':
      return { next: { cur: input.value, prev: r.cur, auto: input.value.rollbackOnFailure } }
    case 'scale':
      return r.cur.replicas === null ? { error: 'failed-precondition' } : { next: { cur: { ...r.cur, replicas: input.replicas }, prev: r.cur, auto: r.cur.rollbackOnFailure } }
    case 'rollback':
      return r.prev === null ? { error: 'failed-precondition' } : { next: { cur: r.prev, prev: r.cur, auto: false } }
    case 'remove':
      return { next: null }
  }
}

function matches(outcome: ReturnType<typeof apply>, output: ServiceOpOutput | undefined): boolean {
  if (output === undefined) return true
  if ('error' in outcome) return !output.ok && output.error === outcome.error
  if (!output.ok) return false
  return outcome.value === undefined || (output.value !== undefined && sameValue(outcome.value, output.value))
}

function normalize(states: readonly Register[]): ServiceModelState {
  const byKey = new Map<string, Register>()
  for (const r of states) byKey.set(registerKey(r), r)
  return [...byKey.keys()].sort().map((k) => byKey.get(k) as Register)
}

/**
 * The services model for testkit's `checkLinearizability`, partitioned by service name. A
 * returned call without `output` accepts any result; an indeterminate one (no `return`) may have
 * taken effect or not.
 */
export const serviceModel: Model<ServiceModelState, ServiceOpInput, ServiceOpOutput> = {
  init: () => [null],
  step(state, input, output): StepResult<ServiceModelState> {
    const next: Register[] = []
    for (const r of closure(state)) {
      const outcome = apply(r, input)
      if (!matches(outcome, output)) continue
      next.push('error' in outcome ? r : outcome.next)
    }
    return next.length === 0 ? { ok: false } : { ok: true, state: normalize(next) }
  },
  key: (state) => state.map(registerKey).join('|'),
  partitionBy: (input) => input.name,
}
