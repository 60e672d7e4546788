// The binding compliance suite, run for the dispatcher's own api(nodeId) and for the in-process
// binding (through the wire codec and gRPC statuses) without faults and with delays, all on a ManualClock.
import type { DispatcherApi } from '@swarmkit-ts/api'
import { describeDispatcherBindingCompliance } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
import type { DispatcherBindingTarget } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
import { MemoryStore } from '@swarmkit-ts/store'
import { inProcessDispatcher, ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { Dispatcher } from '../src/index.ts'
import { advanceTimerByTimer, flush } from './helpers/harness.ts'

function target(bind: (api: DispatcherApi, clock: ManualClock) => DispatcherApi): DispatcherBindingTarget {
  const clock = new ManualClock(1_700_000_000_000)
  const store = new MemoryStore({ clock })
  const dispatcher = new Dispatcher({ store, clock, random: new SeededRandom(17) })
  const handle = dispatcher.start()
  return {
    api: (nodeId) => bind(dispatcher.api(nodeId), clock),
    store,
    advance: (ms) => advanceTimerByTimer(clock, ms, flush),
    stop: () => handle.stop(),
    close: async () => {
      await handle.stop()
      clock.runAll()
    },
  }
}

describeDispatcherBindingCompliance('Dispatcher.api(nodeId)', () => target((api) => api))

describeDispatcherBindingCompliance('inProcessDispatcher without faults', () =>
  target((api, clock) => inProcessDispatcher(api, { clock, random: new SeededRandom(3) })),
)

describeDispatcherBindingCompliance('inProcessDispatcher with delays', () =>
  target((api, clock) => inProcessDispatcher(api, { clock, random: new SeededRandom(5), faults: { delayMs: [0, 40] } })),
)
