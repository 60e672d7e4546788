// The binding compliance suite over real gRPC with mutual TLS on 127.0.0.1: each node's api is a
// GrpcDispatcherClient presenting a worker certificate whose CN is the node id, talking to a
// manager's NodeServer serving the dispatcher (system clock: the suite waits real time); then the
// same through a GrpcDispatcherConnector per node (the agent's path).
import { cryptoRandom, systemClock } from '@swarmkit-ts/api'
import { Dispatcher } from '@swarmkit-ts/orchestrator'
import { describeDispatcherBindingCompliance } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
import type { DispatcherBindingTarget } from '@swarmkit-ts/orchestrator/dispatcher-compliance'
import { MemoryStore } from '@swarmkit-ts/store'
import { LazyClients, startDispatcherServer, testPki } from './helpers/dispatcher-rig.ts'

/** A dispatcher served on a NodeServer, each node's calls carried `via` a client or a connector. */
async function target(via: 'client' | 'connector'): Promise<DispatcherBindingTarget> {
  const pki = await testPki()
  const store = new MemoryStore()
  const dispatcher = new Dispatcher({ store, clock: systemClock, random: cryptoRandom })
  const handle = dispatcher.start()
  const rig = await startDispatcherServer(pki, { dispatcher: () => dispatcher })
  const clients = new LazyClients(pki, rig.address, via)
  return {
    api: (nodeId) => clients.api(nodeId),
    store,
    stop: () => handle.stop(),
    close: async () => {
      await handle.stop()
      await clients.close()
      await rig.close()
    },
  }
}

describeDispatcherBindingCompliance('gRPC with mutual TLS (GrpcDispatcherClient → addDispatcherService)', () => target('client'))

describeDispatcherBindingCompliance('gRPC with mutual TLS (GrpcDispatcherConnector → addDispatcherService)', () => target('connector'))
