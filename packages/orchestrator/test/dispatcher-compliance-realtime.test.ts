// The binding compliance suite on the system clock (no `advance`: the suite waits real time), for
// the in-process binding: the path an embedder's real binding (e.g. gRPC) takes.
import { cryptoRandom, systemClock } from '@swarmkit-ts/api'
import { describeDispatcherBindingCompliance } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
import { MemoryStore } from '@swarmkit-ts/store'
import { inProcessDispatcher } from '@swarmkit-ts/testkit'
import { Dispatcher } from '../src/index.ts'

describeDispatcherBindingCompliance('inProcessDispatcher on the system clock', () => {
  const store = new MemoryStore()
  const dispatcher = new Dispatcher({ store, clock: systemClock, random: cryptoRandom })
  const handle = dispatcher.start()
  return {
    api: (nodeId) => inProcessDispatcher(dispatcher.api(nodeId), { clock: systemClock, random: cryptoRandom }),
    store,
    stop: () => handle.stop(),
    close: () => handle.stop(),
  }
})
