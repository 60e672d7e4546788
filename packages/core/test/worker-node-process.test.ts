/**
 * WorkerNode on ProcessRuntime (opened by kind in the node's state directory) against an
 * in-process manager: a real busybox httpd task publishes its port on 127.0.0.1, the store holds
 * that port in `status.portStatus`; a restarted node adopts the process; a node that holds the
 * store (as a manager running tasks) routes the service's published port through its mesh.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TaskState, generateId } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { ProcessRuntime, createBusyboxImage, findBusybox } from '@swarmkit-ts/engine-adapter'
import { WorkerNode, runtimeStateDir } from '../src/worker/index.ts'
import type { WorkerNodeInit } from '../src/worker/index.ts'
import { TestManager, httpResponse, until } from './helpers/worker-manager.ts'

const GUARD_MS = 30_000
let root = ''
let www = ''
let manager: TestManager
const nodes: WorkerNode[] = []
const cleanups: (() => Promise<void>)[] = []
const stateDirs: string[] = []

beforeEach(async () => {
  expect(findBusybox()).toBeDefined() // CI installs busybox-static
  root = await mkdtemp(join(tmpdir(), 'core-worker-process-'))
  www = join(root, 'www')
  await mkdir(www)
  await writeFile(join(www, 'index.html'), 'hello from a swarmkit-ts task\n')
  manager = await new TestManager().start()
})

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  for (const c of cleanups.splice(0).reverse()) await c()
  for (const dir of stateDirs.splice(0)) await removeProcesses(dir)
  await manager.close()
  await rm(root, { recursive: true, force: true })
})

/** A node at `<root>/<nodeId>`; after the test, the processes it left running are removed. */
function workerNode(nodeId: string, extra: Partial<WorkerNodeInit> = {}): WorkerNode {
  const stateDir = join(root, nodeId)
  const node = new WorkerNode({ stateDir, dispatcher: manager.connector(nodeId), hostname: nodeId, random: manager.random, ...extra })
  nodes.push(node)
  if (!stateDirs.includes(stateDir)) stateDirs.push(stateDir)
  return node
}

/** Removes every process a node left running in `stateDir` (as a new runtime instance adopting them would). */
async function removeProcesses(stateDir: string): Promise<void> {
  const image = await createBusyboxImage(join(stateDir, 'runtime', 'images', 'busybox'))
  const rt = await ProcessRuntime.open({ stateDir: runtimeStateDir(stateDir, 'process'), images: { busybox: image } })
  for (const c of await rt.list()) await rt.remove(c.id, { force: true })
  await rt.close()
}

/** busybox httpd serving `www` on the port ProcessRuntime allocates (`PORT`), target 8080 published through the mesh. */
const web = (name: string): ServiceSpec => ({
  annotations: { name },
  mode: { replicated: { replicas: 1 } },
  task: { container: { image: 'busybox', command: ['sh', '-c', `exec httpd -f -p 127.0.0.1:$PORT -h ${www}`], stopGracePeriodMs: 1000 } },
  endpoint: { ports: [{ targetPort: 8080, publishMode: 'ingress' }] },
})

describe('WorkerNode on ProcessRuntime', () => {
  it('runs a busybox httpd task reachable on 127.0.0.1 at the port in its status.portStatus, and adopts the process after a restart', { timeout: 90_000 }, async () => {
    const nodeId = generateId(manager.random)
    const first = workerNode(nodeId)
    await first.start()
    const service = await manager.services.create(web('web'))
    await until(() => manager.tasks(service.id).some((t) => t.status.state === TaskState.RUNNING && t.status.portStatus !== undefined), 'the task running with its port status', GUARD_MS)
    const [running] = manager.tasks(service.id)
    const containers = (await first.runtime?.list()) ?? []
    expect(containers.map((c) => c.state)).toEqual(['running'])
    const published = containers[0]?.ports[0]?.published ?? 0
    expect(running?.status.portStatus).toEqual({ ports: [{ protocol: 'tcp', targetPort: 8080, publishedPort: published, publishMode: 'host' }] })
    await until(async () => (await httpResponse(published).catch(() => '')) !== '', 'httpd answering', GUARD_MS)
    expect(await httpResponse(published)).toMatch(/^HTTP\/1\.[01] 200 OK\r\n[\s\S]*\r\n\r\nhello from a swarmkit-ts task\n$/)

    // The node goes away (the process keeps running) and a new node object on the same state directory adopts it.
    await first.stop()
    expect(await httpResponse(published)).toMatch(/hello from a swarmkit-ts task/)
    const second = workerNode(nodeId)
    await second.start()
    await until(() => (second.status?.sessions ?? 0) === 1, 'the restarted node registered', GUARD_MS)
    await until(() => [...second.tasks()].length === 1, 'its task resumed', GUARD_MS)
    const sleeper: ServiceSpec = { annotations: { name: 'sleeper' }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox', command: ['sleep', '1000'], stopGracePeriodMs: 1000 } } }
    const other = await manager.services.create(sleeper)
    await until(() => manager.tasks(other.id).some((t) => t.status.state === TaskState.RUNNING), 'a second service running after the restart', GUARD_MS)
    const after = ((await second.runtime?.list()) ?? []).filter((c) => c.labels['com.docker.swarm.service.id'] === service.id)
    expect(after.map((c) => [c.id, c.state, c.ports[0]?.published])).toEqual([[containers[0]?.id, 'running', published]])
    expect(manager.tasks(service.id).map((t) => [t.id, t.status.state])).toEqual([[running?.id, TaskState.RUNNING]])
  })

  it('a node holding the store (a manager running tasks) routes the service published port through its mesh to the task', { timeout: 90_000 }, async () => {
    const nodeId = generateId(manager.random)
    const node = workerNode(nodeId, { store: manager.store, mesh: { listenAddress: '127.0.0.1' } })
    await node.start()
    const service = await manager.services.create(web('web'))
    await until(() => manager.tasks(service.id).some((t) => t.status.state === TaskState.RUNNING && t.status.portStatus !== undefined), 'the task running with its port status', GUARD_MS)
    const meshPort = manager.store.view((tx) => tx.services.get(service.id))?.endpoint?.ports?.[0]?.publishedPort ?? 0
    expect(meshPort).toBeGreaterThanOrEqual(30000)
    await until(() => node.mesh?.listeners().some((l) => l.publishedPort === meshPort && l.state === 'listening' && l.backends === 1) === true, 'the mesh listening with one backend', GUARD_MS)
    await until(async () => (await httpResponse(meshPort).catch(() => '')) !== '', 'the mesh answering', GUARD_MS)
    expect(await httpResponse(meshPort)).toMatch(/^HTTP\/1\.[01] 200 OK\r\n[\s\S]*\r\n\r\nhello from a swarmkit-ts task\n$/)
  })
})
