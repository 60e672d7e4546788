/**
 * A binding compliance target: a started Dispatcher on a ManualClock, each node's api passed
 * through `bind` (the binding under test, or a deliberately broken one).
 */
import type { DispatcherApi } from '@swarmkit-ts/api'
import type { DispatcherBindingTarget } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { Dispatcher } from '../../src/index.ts'
import { advanceTimerByTimer, flush } from './harness.ts'

/** A fresh dispatcher whose node apis go through `bind`. */
export function dispatcherTarget(bind: (api: DispatcherApi, clock: ManualClock) => DispatcherApi): DispatcherBindingTarget {
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
