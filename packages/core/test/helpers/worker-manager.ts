/**
 * The manager side of the worker tests, in process on the system clock: a MemoryStore with a
 * Cluster object, the leader's loops (the `Orchestrator` with its scheduler, the
 * `NetworkAllocator` with the ingress network, the `Dispatcher`) and `ServiceControl`; each
 * worker reaches the dispatcher through testkit's `inProcessDispatcher` (the wire codec), as a
 * node at 127.0.0.1.
 */
import { connect } from 'node:net'
import { generateId, systemClock } from '@swarmkit-ts/api'
import type { DispatcherApi, Task } from '@swarmkit-ts/api'
import { NetworkAllocator } from '@swarmkit-ts/network'
import type { NetworkAllocatorHandle } from '@swarmkit-ts/network'
import { Dispatcher, Orchestrator, ServiceControl } from '@swarmkit-ts/orchestrator'
import type { OrchestratorHandle } from '@swarmkit-ts/orchestrator'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Frozen } from '@swarmkit-ts/store'
import { SeededRandom, inProcessDispatcher } from '@swarmkit-ts/testkit'

/** Waits until `check` holds, polling; rejects naming `what` after `guardMs` (a failure guard, not a timing). */
export async function until(check: () => boolean | Promise<boolean>, what: string, guardMs = 20_000): Promise<void> {
  const deadline = Date.now() + guardMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** What a server at 127.0.0.1:`port` answers to `GET /` (HTTP/1.0), until it closes the connection. */
export function httpResponse(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.0\r\n\r\n'))
    let text = ''
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
    socket.on('error', reject)
    socket.on('close', () => resolve(text))
  })
}

/** The in-process manager (see the module doc). */
export class TestManager {
  readonly random = new SeededRandom(7)
  readonly store = new MemoryStore()
  readonly services: ServiceControl
  readonly dispatcher: Dispatcher
  #loops: { orchestrator: OrchestratorHandle; allocator: NetworkAllocatorHandle; dispatcher: { stop(): Promise<void> } } | undefined

  constructor() {
    const effects = { store: this.store, clock: systemClock, random: this.random }
    this.services = new ServiceControl(effects)
    this.dispatcher = new Dispatcher(effects)
  }

  /** Creates the Cluster object (with `addressPool` as its default address pool, when given) and starts the leader's loops. */
  async start(options: { readonly addressPool?: string; readonly subnetSize?: number } = {}): Promise<this> {
    await this.store.update((tx) =>
      tx.clusters.create({
        id: generateId(this.random),
        spec: { annotations: { name: 'default' } },
        rootCa: { caCert: new TextEncoder().encode('test root CA'), caCertHash: 'test', joinTokens: { worker: 'w', manager: 'm' } },
        ...(options.addressPool === undefined ? {} : { defaultAddressPool: [options.addressPool] }),
        ...(options.subnetSize === undefined ? {} : { subnetSize: options.subnetSize }),
      }),
    )
    const effects = { store: this.store, clock: systemClock, random: this.random }
    this.#loops = {
      allocator: new NetworkAllocator({ ...effects, bootstrapIngress: true }).start(),
      orchestrator: new Orchestrator({ ...effects, scheduler: true }).start(),
      dispatcher: this.dispatcher.start(),
    }
    return this
  }

  /** A connector for node `nodeId` at 127.0.0.1 (what core's gRPC connector is in a cluster). */
  connector(nodeId: string): () => DispatcherApi {
    const api = inProcessDispatcher(this.dispatcher.api(nodeId, { addr: '127.0.0.1' }), { clock: systemClock, random: new SeededRandom(11) })
    return () => api
  }

  /** The tasks of `serviceId`. */
  tasks(serviceId: string): Frozen<Task>[] {
    return this.store.view((tx) => tx.tasks.find({ serviceId }))
  }

  /** Stops the leader's loops. */
  async close(): Promise<void> {
    const loops = this.#loops
    this.#loops = undefined
    await loops?.dispatcher.stop()
    await loops?.orchestrator.stop()
    await loops?.allocator.stop()
  }
}
