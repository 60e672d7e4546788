// The binding compliance suite, run for the dispatcher's own api(nodeId) and for the in-process
// binding (through the wire codec and gRPC statuses) without faults and with delays, all on a ManualClock.
import { describeDispatcherBindingCompliance } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
import { inProcessDispatcher, SeededRandom } from '@swarmkit-ts/testkit'
import { dispatcherTarget as target } from './helpers/dispatcher-target.ts'

describeDispatcherBindingCompliance('Dispatcher.api(nodeId)', () => target((api) => api))

describeDispatcherBindingCompliance('inProcessDispatcher without faults', () =>
  target((api, clock) => inProcessDispatcher(api, { clock, random: new SeededRandom(3) })),
)

describeDispatcherBindingCompliance('inProcessDispatcher with delays', () =>
  target((api, clock) => inProcessDispatcher(api, { clock, random: new SeededRandom(5), faults: { delayMs: [0, 40] } })),
)
