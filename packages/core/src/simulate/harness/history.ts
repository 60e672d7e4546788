/**
 * The history of control calls the harness made: each call's invocation and response on the
 * virtual clock, with its outcome — the input of the linearizability check and of the check that
 * no acknowledged write was lost.
 *
 * A call that failed with a typed refusal (`NotFoundError`, `AlreadyExistsError`,
 * `FailedPreconditionError`) changed nothing; one that failed otherwise (`UnavailableError`, a
 * lost leader, a deadline) is indeterminate: it may have taken effect, or not.
 *
 * @module
 */
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@swarmkit-ts/api'
import type { NodeAvailability, Service, ServiceSpec } from '@swarmkit-ts/api'
import type { Operation } from '@swarmkit-ts/testkit'
import type { Frozen } from '@swarmkit-ts/store'
import type { ServiceOpError, ServiceOpInput, ServiceOpOutput, ServiceValue } from './service-model.ts'

/** The label in which the harness names the write that produced a service's spec. */
export const HARNESS_TOKEN_LABEL = 'swarmkit-ts.harness.token'

/** A control call on a service, as recorded. */
export interface ServiceCall {
  /** The call and its outcome for the linearizability checker. */
  readonly operation: Operation<ServiceOpInput, ServiceOpOutput>
  /** The store version the acknowledged write produced (`meta.version.index` of the answer). */
  readonly version?: bigint
}

/** A node availability write, as recorded. */
export interface AvailabilityCall {
  readonly nodeId: string
  readonly availability: NodeAvailability
  /** When it was invoked (virtual ms). */
  readonly call: number
  /** When its answer arrived (virtual ms); absent when indeterminate. */
  readonly return?: number
  /** `true` acknowledged, `false` refused (changed nothing), `undefined` indeterminate. */
  readonly acknowledged: boolean | undefined
  /** The node's store version after an acknowledged write. */
  readonly version?: bigint
}

/** What the harness writes with `spec`: its token, replica count and failure action. */
export function specValue(spec: Frozen<ServiceSpec>): ServiceValue {
  const mode = spec.mode
  return {
    token: spec.annotations.labels?.[HARNESS_TOKEN_LABEL] ?? '',
    replicas: 'replicated' in mode ? (mode.replicated.replicas ?? 1) : null,
    rollbackOnFailure: spec.update?.failureAction === 'rollback',
  }
}

/** What the harness reads back from a service it wrote (see {@link specValue}). */
export function serviceValue(service: Frozen<Service>): ServiceValue {
  return specValue(service.spec)
}

/** The refusal `err` stands for, or undefined when the call's outcome is unknown. */
export function definiteError(err: unknown): ServiceOpError | undefined {
  if (err instanceof NotFoundError) return 'not-found'
  if (err instanceof AlreadyExistsError) return 'already-exists'
  if (err instanceof FailedPreconditionError) return 'failed-precondition'
  return undefined
}

/**
 * The calls of one run, in invocation order. `now` reads the virtual clock; `clientId` tells
 * concurrent callers apart (informative only).
 */
export class ClusterHistory {
  readonly #now: () => number
  readonly #services: ServiceCall[] = []
  readonly #availability: AvailabilityCall[] = []

  constructor(now: () => number) {
    this.#now = now
  }

  /** The service calls so far. */
  get serviceCalls(): readonly ServiceCall[] {
    return this.#services
  }

  /** The availability writes so far. */
  get availabilityCalls(): readonly AvailabilityCall[] {
    return this.#availability
  }

  /** The service calls as the linearizability checker's history. */
  operations(): Operation<ServiceOpInput, ServiceOpOutput>[] {
    return this.#services.map((c) => c.operation)
  }

  /**
   * Runs `call` (a control call described by `input`) and records it. Resolves with its result,
   * or undefined when it failed; a definite refusal is recorded with its output, any other
   * failure as indeterminate. Never rejects.
   */
  async service<T extends Frozen<Service> | undefined | void>(input: ServiceOpInput, call: () => Promise<T>, clientId = 0): Promise<T | undefined> {
    const start = this.#now()
    const index = this.#services.length
    this.#services.push({ operation: { clientId, input, call: start } })
    try {
      const result = await call()
      const output: ServiceOpOutput = input.type === 'get' && result !== undefined ? { ok: true, value: serviceValue(result) } : { ok: true }
      const version = result === undefined ? undefined : result.meta.version.index
      this.#services[index] = { operation: { clientId, input, call: start, output, return: this.#now() }, ...(version === undefined || input.type === 'get' ? {} : { version }) }
      return result
    } catch (err) {
      const error = definiteError(err)
      if (error !== undefined) this.#services[index] = { operation: { clientId, input, call: start, output: { ok: false, error }, return: this.#now() } }
      return undefined
    }
  }

  /** Runs an availability write and records it; resolves whether it was acknowledged. Never rejects. */
  async availability(nodeId: string, availability: NodeAvailability, call: () => Promise<{ readonly meta: { readonly version: { readonly index: bigint } } }>): Promise<boolean> {
    const start = this.#now()
    const index = this.#availability.length
    this.#availability.push({ nodeId, availability, call: start, acknowledged: undefined })
    try {
      const node = await call()
      this.#availability[index] = { nodeId, availability, call: start, return: this.#now(), acknowledged: true, version: node.meta.version.index }
      return true
    } catch (err) {
      if (definiteError(err) !== undefined) this.#availability[index] = { nodeId, availability, call: start, return: this.#now(), acknowledged: false }
      return false
    }
  }
}
