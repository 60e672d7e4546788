// The routing mesh end to end on one host: replicas are node HTTP (and UDP) servers run by the
// engine-adapter's ProcessRuntime, their tasks written into a MemoryStore with the ports the
// runtime published (status.portStatus) on a node at 127.0.0.1, and the mesh fed by a
// StoreEndpointSource — as the agent and the allocator will leave things.
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { ProcessRuntime } from '@swarmkit-ts/engine-adapter'
import type { ContainerInfo } from '@swarmkit-ts/engine-adapter'
import { MemoryStore } from '@swarmkit-ts/store'
import { RoutingMesh, StoreEndpointSource } from '../src/index.ts'
import { freePort, freeTcpUdpPort, httpGet, udpClient, waitFor } from './helpers/mesh-net.ts'
import { writeReplicaPrograms } from './helpers/mesh-fixtures.ts'
import { hostPort, id, nodeObj, serviceObj, taskObj } from './helpers/mesh-objects.ts'

let root = ''
let rt: ProcessRuntime
let programs: { http: string; udp: string }

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swarmkit-mesh-'))
  programs = await writeReplicaPrograms(root)
  rt = await ProcessRuntime.open({ stateDir: join(root, 'state'), images: { node: { path: [dirname(process.execPath)] } } })
})
afterAll(async () => {
  for (const c of await rt.list()) await rt.remove(c.id, { force: true }).catch(() => undefined)
  await rt.close()
  await rm(root, { recursive: true, force: true })
})

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Starts a replica and waits until it prints that it listens; its container info. */
async function replica(name: string, protocol: 'tcp' | 'udp' = 'tcp'): Promise<ContainerInfo> {
  const target = protocol === 'tcp' ? 80 : 53
  const c = await rt.create({ image: 'node', command: ['node', protocol === 'tcp' ? programs.http : programs.udp], env: { REPLICA: name }, ports: [{ target, protocol }] })
  cleanups.push(() => rt.remove(c, { force: true }))
  await rt.start(c)
  const ac = new AbortController()
  for await (const l of rt.logs(c, { follow: true, signal: ac.signal })) if (l.line === 'listening') ac.abort()
  return rt.inspect(c)
}

/** The task the agent would report for a running container: RUNNING, its published ports in portStatus. */
function runningTask(name: string, info: ContainerInfo, slot: number): ReturnType<typeof taskObj> {
  return taskObj(name, 'web', { slot, ports: info.ports.map((p) => hostPort(p.target, p.published, p.protocol)) })
}

/** A store with node-a at 127.0.0.1, service `web` publishing `publishedPort` → 80 (or 53/udp), a mesh on it. */
async function cluster(publishedPort: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<{ store: MemoryStore; mesh: RoutingMesh }> {
  const store = new MemoryStore()
  const target = protocol === 'tcp' ? 80 : 53
  const port = { targetPort: target, publishedPort, protocol, publishMode: 'ingress' as const }
  await store.update((tx) => {
    tx.nodes.create(nodeObj('node-a', '127.0.0.1'))
    tx.services.create(serviceObj('web', [{ ...port, publishedPort: 0 }], [port]))
  })
  const source = new StoreEndpointSource({ store })
  source.start()
  const mesh = new RoutingMesh({ source, listenAddress: '127.0.0.1', failurePauseMs: 60_000 })
  cleanups.push(() => source.stop(), () => mesh.stop())
  await mesh.start()
  return { store, mesh }
}

function count(bodies: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const b of bodies) out[b] = (out[b] ?? 0) + 1
  return out
}

async function requests(port: number, n: number): Promise<Record<string, number>> {
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(await httpGet(port))
  return count(out)
}

const backends = (mesh: RoutingMesh): number => mesh.listeners()[0]?.backends ?? 0

describe('the routing mesh over ProcessRuntime replicas', () => {
  it('spreads requests on fresh connections evenly over every running replica', async () => {
    const port = await freePort()
    const { store, mesh } = await cluster(port)
    const infos = [await replica('r1'), await replica('r2'), await replica('r3')]
    await store.update((tx) => infos.forEach((info, i) => tx.tasks.create(runningTask(`t${i + 1}`, info, i + 1))))
    await waitFor(() => backends(mesh) === 3, 'three backends')
    expect(await requests(port, 30)).toEqual({ r1: 10, r2: 10, r3: 10 })
  })

  it('sends no new connection to a replica whose task is shut down, while its open connection completes', async () => {
    const port = await freePort()
    const { store, mesh } = await cluster(port)
    const infos = [await replica('r1'), await replica('r2'), await replica('r3')]
    await store.update((tx) => infos.forEach((info, i) => tx.tasks.create(runningTask(`t${i + 1}`, info, i + 1))))
    await waitFor(() => backends(mesh) === 3, 'three backends')
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    cleanups.push(() => agent.destroy())
    expect(await httpGet(port, agent)).toBe('r1')
    await store.update((tx) => tx.tasks.update(id('t1'), (t) => void (t.status.state = TaskState.SHUTDOWN)))
    await waitFor(() => backends(mesh) === 2, 'r1 to leave the table')
    expect(await requests(port, 10)).toEqual({ r2: 5, r3: 5 })
    expect(await httpGet(port, agent)).toBe('r1')
    expect(mesh.stats()[0]?.backends.map((b) => [b.taskId, b.draining, b.active])).toEqual([[id('t2'), false, 0], [id('t3'), false, 0], [id('t1'), true, 1]])
  })

  it('adds a replica as soon as its task runs (scaling up)', async () => {
    const port = await freePort()
    const { store, mesh } = await cluster(port)
    const [a, b] = [await replica('r1'), await replica('r2')]
    await store.update((tx) => [a, b].forEach((info, i) => tx.tasks.create(runningTask(`t${i + 1}`, info, i + 1))))
    await waitFor(() => backends(mesh) === 2, 'two backends')
    expect(await requests(port, 4)).toEqual({ r1: 2, r2: 2 })
    const c = await replica('r3')
    await store.update((tx) => tx.tasks.create({ ...runningTask('t3', c, 3), status: { timestamp: 0, state: TaskState.STARTING } }))
    expect(backends(mesh)).toBe(2)
    await store.update((tx) => tx.tasks.update(id('t3'), (t) => void (t.status = { timestamp: 1, state: TaskState.RUNNING, portStatus: { ports: c.ports.map((p) => hostPort(p.target, p.published)) } })))
    await waitFor(() => backends(mesh) === 3, 'the third backend')
    expect(await requests(port, 30)).toEqual({ r1: 10, r2: 10, r3: 10 })
  })

  it('skips a replica whose process died before the store knows', async () => {
    const port = await freePort()
    const { store, mesh } = await cluster(port)
    const infos = [await replica('r1'), await replica('r2'), await replica('r3')]
    await store.update((tx) => infos.forEach((info, i) => tx.tasks.create(runningTask(`t${i + 1}`, info, i + 1))))
    await waitFor(() => backends(mesh) === 3, 'three backends')
    await rt.stop(infos[1]?.id ?? '', { graceMs: 0 })
    // One connection finds r2 dead and goes on to r3; r2 is then passed over while paused.
    expect(await requests(port, 12)).toEqual({ r1: 6, r3: 6 })
    expect(mesh.stats()[0]?.backends.find((b) => b.taskId === id('t2'))).toMatchObject({ failed: 1, total: 0, paused: true })
  })

  it('carries UDP: each client gets its echo back through the published port', async () => {
    const port = await freeTcpUdpPort()
    const { store, mesh } = await cluster(port, 'udp')
    const infos = [await replica('u1', 'udp'), await replica('u2', 'udp')]
    await store.update((tx) => infos.forEach((info, i) => tx.tasks.create(runningTask(`t${i + 1}`, info, i + 1))))
    await waitFor(() => backends(mesh) === 2, 'two backends')
    const a = await udpClient(port)
    const b = await udpClient(port)
    cleanups.push(() => a.close(), () => b.close())
    expect(await a.ask('ping-a')).toBe('u1:ping-a')
    expect(await b.ask('ping-b')).toBe('u2:ping-b')
    expect(await a.ask('again-a')).toBe('u1:again-a')
  })
})
