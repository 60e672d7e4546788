/**
 * WorkerNode on FakeRuntime against an in-process manager (store, orchestrator with scheduler,
 * network allocator, dispatcher): a service's tasks run and report where their ports are, the
 * node lists its tasks with their containers, and a restarted node adopts its containers.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TaskState, generateId, systemClock } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { FakeRuntime } from '@swarmkit-ts/engine-adapter'
import { WorkerNode } from '../src/worker/index.ts'
import type { WorkerNodeInit } from '../src/worker/index.ts'
import { TestManager, httpResponse, until } from './helpers/worker-manager.ts'

let root = ''
let manager: TestManager
const nodes: WorkerNode[] = []
const runtimes: FakeRuntime[] = []

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'core-worker-fake-'))
  manager = await new TestManager().start()
})

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  await manager.close()
  for (const rt of runtimes.splice(0)) {
    for (const c of await rt.list()) await rt.remove(c.id, { force: true })
    await rt.close()
  }
  await rm(root, { recursive: true, force: true })
})

function fakeRuntime(): FakeRuntime {
  const rt = new FakeRuntime({ clock: systemClock })
  runtimes.push(rt)
  return rt
}

function workerNode(nodeId: string, runtime: FakeRuntime, extra: Partial<WorkerNodeInit> = {}): WorkerNode {
  const node = new WorkerNode({ stateDir: join(root, nodeId), dispatcher: manager.connector(nodeId), runtime, hostname: nodeId, random: manager.random, ...extra })
  nodes.push(node)
  return node
}

/** An httpd on target port 80, published through the routing mesh (the allocator picks the port). */
const web = (replicas: number): ServiceSpec => ({
  annotations: { name: 'web' },
  mode: { replicated: { replicas } },
  task: { container: { image: 'busybox:fake', command: ['httpd', '-f', '-p', '80'] } },
  endpoint: { ports: [{ targetPort: 80, publishMode: 'ingress' }] },
})

const running = (serviceId: string): number => manager.tasks(serviceId).filter((t) => t.status.state === TaskState.RUNNING).length

describe('WorkerNode on FakeRuntime', () => {
  it('runs a service published on the ingress network: its tasks RUNNING in the store with the node port they answer on in status.portStatus', async () => {
    const nodeId = generateId(manager.random)
    const rt = fakeRuntime()
    const node = workerNode(nodeId, rt)
    await node.start()
    const service = await manager.services.create(web(2))
    await until(() => running(service.id) === 2, 'two tasks running')

    const ingress = manager.store.view((tx) => tx.networks.find().find((n) => n.spec.ingress === true))
    const containers = await rt.list()
    expect(containers.length).toBe(2)
    for (const task of manager.tasks(service.id)) {
      const container = containers.find((c) => c.labels['com.docker.swarm.task.id'] === task.id)
      const published = container?.ports[0]?.published ?? 0
      expect(published).toBeGreaterThan(0)
      expect(task.status.portStatus).toEqual({ ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: published, publishMode: 'host' }] })
      expect(task.networks?.map((a) => a.networkId)).toEqual([ingress?.id])
      expect((await httpResponse(published)).split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found')
    }
    // The ingress network was created on the node from the tasks' addresses, once.
    const taskIds = manager.tasks(service.id).map((t) => t.id).sort()
    expect([...(node.networking?.preparedTasks().keys() ?? [])].sort()).toEqual(taskIds)
    expect(node.nodeId).toBe(nodeId)
  })

  it('lists the tasks it runs with their container ids, and says when that list changes (the log publisher hooks)', async () => {
    const nodeId = generateId(manager.random)
    const rt = fakeRuntime()
    const node = workerNode(nodeId, rt)
    expect([...node.tasks()]).toEqual([])
    const seen: number[] = [] // how many tasks tasks() listed at each change
    node.onTasksChanged(() => seen.push([...node.tasks()].length))
    await node.start()
    const service = await manager.services.create(web(3))
    await until(() => running(service.id) === 3, 'three tasks running')
    await until(() => [...node.tasks()].length === 3, 'three tasks with containers on the node')
    const byTask = new Map((await rt.list()).map((c) => [c.labels['com.docker.swarm.task.id'], c.id]))
    expect(new Map([...node.tasks()].map(({ task, containerId }) => [task.id, containerId]))).toEqual(byTask)
    // Told of every container once it exists: at each call at least one more task listed, up to all three.
    const whileRunning = [...seen]
    expect(whileRunning.every((n, i) => n >= 1 && n >= (whileRunning[i - 1] ?? 1))).toBe(true)
    expect(whileRunning.at(-1)).toBe(3)
    await node.stop()
    expect([...node.tasks()]).toEqual([])
    const afterStop = seen.slice(whileRunning.length)
    expect(afterStop.length > 0 && afterStop.every((n) => n === 0)).toBe(true)
  })

  it('a restarted node adopts its running containers: the same ones, none added, the tasks still RUNNING', async () => {
    const nodeId = generateId(manager.random)
    const rt = fakeRuntime()
    const first = workerNode(nodeId, rt)
    await first.start()
    const service = await manager.services.create(web(3))
    await until(() => running(service.id) === 3, 'three tasks running')
    const before = (await rt.list()).map((c) => [c.id, c.state]).sort()
    const tasksBefore = manager.tasks(service.id).map((t) => t.id).sort()

    await first.stop()
    expect((await rt.list()).map((c) => [c.id, c.state]).sort()).toEqual(before) // stop leaves them running

    const second = workerNode(nodeId, rt)
    await second.start()
    await until(() => (second.status?.sessions ?? 0) === 1, 'the restarted node registered')
    await until(() => [...second.tasks()].length === 3, 'the restarted node resumed its three tasks')
    // Another service forces a round trip through the dispatcher after the adoption.
    const other = await manager.services.create({ ...web(1), annotations: { name: 'web2' } })
    await until(() => running(other.id) === 1, 'the second service running')

    const after = (await rt.list()).filter((c) => c.labels['com.docker.swarm.service.id'] === service.id)
    expect(after.map((c) => [c.id, c.state]).sort()).toEqual(before)
    expect(manager.tasks(service.id).map((t) => [t.id, t.status.state]).sort()).toEqual(tasksBefore.map((id) => [id, TaskState.RUNNING]))
  })

  it('a node restarted with the same object after stop() resumes the same containers', async () => {
    const nodeId = generateId(manager.random)
    const rt = fakeRuntime()
    const node = workerNode(nodeId, rt)
    await node.start()
    const service = await manager.services.create(web(2))
    await until(() => running(service.id) === 2, 'two tasks running')
    const before = (await rt.list()).map((c) => c.id).sort()
    await node.stop()
    await node.start()
    await until(() => (node.status?.sessions ?? 0) === 1, 'registered again')
    await until(() => [...node.tasks()].length === 2, 'its two tasks resumed')
    expect((await rt.list()).map((c) => c.id).sort()).toEqual(before)
  })
})
