// The dispatcher binding compliance suite for the MessagePort binding the threaded cluster uses
// (test/cluster/port-binding.ts): both ends on this thread, over a real MessageChannel, the
// dispatcher on a ManualClock.
import { MessageChannel } from 'node:worker_threads'
import { describeDispatcherBindingCompliance } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
import type { DispatcherBindingTarget } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
import { Dispatcher } from '@swarmkit-ts/orchestrator'
import { MemoryStore } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { PortDispatcherClient, PortDispatcherServer } from './cluster/port-binding.ts'
import { advanceTimerByTimer, turn } from './cluster/settle.ts'

/** Lets port messages cross (each batch takes a turn to post and one to arrive) and their callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 6; i++) await turn()
}

function target(): DispatcherBindingTarget {
  const clock = new ManualClock(1_700_000_000_000)
  const store = new MemoryStore({ clock })
  const dispatcher = new Dispatcher({ store, clock, random: new SeededRandom(17) })
  const handle = dispatcher.start()
  const { port1, port2 } = new MessageChannel()
  const server = new PortDispatcherServer(port1, (nodeId) => dispatcher.api(nodeId))
  const client = new PortDispatcherClient(port2)
  return {
    api: (nodeId) => client.api(nodeId),
    store,
    advance: (ms) => advanceTimerByTimer(clock, ms, flush),
    stop: () => handle.stop(),
    close: async () => {
      client.close()
      server.close()
      await handle.stop()
      clock.runAll()
    },
  }
}

describeDispatcherBindingCompliance('MessagePort (PortDispatcherClient → PortDispatcherServer)', target)
