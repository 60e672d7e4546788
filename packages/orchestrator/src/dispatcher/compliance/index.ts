/**
 * The dispatcher binding compliance suite: one call registers vitest tests that check a binding
 * of `DispatcherApi` (in process, over gRPC, or the dispatcher's own `api(nodeId)`) carries
 * everything the same way — registration and the session messages, heartbeats, the complete
 * then incremental assignments, status updates, the typed errors with their fields, and the
 * end of a stream by its signal.
 *
 * ```ts
 * import { Dispatcher } from '@swarmkit-ts/orchestrator'
 * import { describeDispatcherBindingCompliance } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
 * import { MemoryStore } from '@swarmkit-ts/store'
 * import { systemClock, cryptoRandom } from '@swarmkit-ts/api'
 *
 * describeDispatcherBindingCompliance('my binding', () => {
 *   const store = new MemoryStore()
 *   const dispatcher = new Dispatcher({ store, clock: systemClock, random: cryptoRandom })
 *   const handle = dispatcher.start()
 *   return {
 *     api: (nodeId) => myBinding(dispatcher.api(nodeId)),
 *     store,
 *     stop: () => handle.stop(),
 *     close: () => handle.stop(),
 *   }
 * })
 * ```
 * @packageDocumentation
 */
import { describe } from 'vitest'
import { ASSIGNMENT_CHECKS } from './assignments-tests.ts'
import { Harness, registerChecks, type DispatcherBindingFactory, type DispatcherComplianceOptions } from './harness.ts'
import { SESSION_CHECKS } from './session-tests.ts'
import { LEADERSHIP_CHECKS, STATUS_CHECKS } from './status-tests.ts'

export type { DispatcherBindingTarget, DispatcherBindingFactory, DispatcherComplianceOptions } from './harness.ts'

/**
 * Registers the compliance suite for a dispatcher binding (call it at the top level of a vitest
 * test file). `factory` makes a running dispatcher with the binding for each test; the suite
 * closes it after the test.
 */
export function describeDispatcherBindingCompliance(name: string, factory: DispatcherBindingFactory, options: DispatcherComplianceOptions = {}): void {
  describe(`DispatcherApi binding compliance: ${name}`, { timeout: options.testTimeoutMs ?? 20_000 }, () => {
    const h = new Harness(factory, options)
    registerChecks(h, 'sessions and heartbeats', SESSION_CHECKS)
    registerChecks(h, 'assignments', ASSIGNMENT_CHECKS)
    registerChecks(h, 'status updates', STATUS_CHECKS)
    registerChecks(h, 'leadership', LEADERSHIP_CHECKS)
  })
}
