/**
 * The log broker and a worker's publisher over real processes (ProcessRuntime running busybox
 * `sh`), not only the fake runtime.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeAvailability, NodeRole, NodeState, TaskState } from '@swarmkit-ts/api'
import { ProcessRuntime, createBusyboxImage } from '@swarmkit-ts/engine-adapter'
import { MemoryStore } from '@swarmkit-ts/store'
import { LogBroker, LogPublisher, type LogMessage, type RunningTaskContainer } from '../../src/logs/index.ts'
import { collect, id, take, until } from './rig.ts'

const N1 = id('n1')
const WEB = id('web')
const T1 = id('t1')

describe('logs of real processes (ProcessRuntime)', () => {
  let dir: string
  let runtime: ProcessRuntime
  let store: MemoryStore
  let broker: LogBroker
  let publisher: LogPublisher
  const running: RunningTaskContainer[] = []

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'core-logs-process-'))
    runtime = await ProcessRuntime.open({ stateDir: join(dir, 'runtime'), images: { busybox: await createBusyboxImage(join(dir, 'image')) } })
    store = new MemoryStore()
    await store.update((tx) => {
      tx.nodes.create({
        id: N1,
        spec: { annotations: { name: 'n1' }, desiredRole: NodeRole.WORKER, membership: 'accepted', availability: NodeAvailability.ACTIVE },
        description: { hostname: 'n1', platform: { os: 'linux', architecture: 'x86_64' } },
        status: { state: NodeState.READY },
        role: NodeRole.WORKER,
      })
      tx.services.create({ id: WEB, spec: { annotations: { name: 'web' }, task: { container: { image: 'busybox' } }, mode: { replicated: { replicas: 1 } } } })
    })
    broker = new LogBroker({ store })
    broker.start()
    publisher = new LogPublisher({ nodeId: N1, runtime, tasks: () => running, broker: () => broker.workerApi(N1), pollIntervalMs: 50, retryDelayMs: 10 })
    publisher.start()
  })
  afterEach(async () => {
    await publisher.stop()
    await broker.stop()
    for (const c of running.splice(0)) await runtime.remove(c.containerId, { force: true })
    await runtime.close()
    await rm(dir, { recursive: true, force: true })
  })

  /** Runs `script` as task t1 of web on n1. */
  async function runTask(script: string): Promise<void> {
    const containerId = await runtime.create({ image: 'busybox', command: ['sh', '-c', script] })
    await runtime.start(containerId)
    running.push({ task: { id: T1, serviceId: WEB, nodeId: N1 }, containerId })
    await store.update((tx) =>
      tx.tasks.create({
        id: T1,
        spec: { container: { image: 'busybox' } },
        serviceId: WEB,
        slot: 1,
        nodeId: N1,
        annotations: { name: '' },
        serviceAnnotations: { name: 'web' },
        status: { timestamp: Date.now(), state: TaskState.RUNNING },
        desiredState: TaskState.RUNNING,
      }),
    )
  }

  const lines = (ms: readonly LogMessage[]): string[] => ms.map((m) => `${m.stream} ${m.line}`)

  it("follows a process's stdout and stderr as it writes, then a non-follow tail reads the end", async () => {
    await runTask('echo hello; echo oops 1>&2; for i in 1 2 3; do sleep 0.1; echo "tick $i"; done; exec sleep 60')
    await until(() => broker.connectedNodes().length === 1)
    const ctrl = new AbortController()
    const it = broker.subscribe({ selector: { serviceIds: [WEB] }, options: { follow: true } }, { signal: ctrl.signal })[Symbol.asyncIterator]()
    const followed = await take(it, 5)
    expect(lines(followed).filter((l) => l.startsWith('stdout'))).toEqual(['stdout hello', 'stdout tick 1', 'stdout tick 2', 'stdout tick 3'])
    expect(lines(followed).filter((l) => l.startsWith('stderr'))).toEqual(['stderr oops'])
    expect(followed.every((m) => m.taskId === T1 && m.serviceId === WEB && m.nodeId === N1)).toBe(true)
    ctrl.abort()
    expect(await it.next()).toEqual({ value: undefined, done: true })

    const tail = await collect(broker.subscribe({ selector: { taskIds: [T1] }, options: { tail: 2, streams: ['stdout'] } }))
    expect(lines(tail)).toEqual(['stdout tick 2', 'stdout tick 3'])
  })
})
