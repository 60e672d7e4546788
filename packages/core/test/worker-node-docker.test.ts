/**
 * WorkerNode with `runtime: 'docker'` on the private test dockerd: the node picks the Docker
 * network driver, so a task on a cluster network gets a bridge with the allocated subnet and its
 * allocated address there, its published port answers on 127.0.0.1 at the port in its
 * `status.portStatus`, and the bridges go once the node runs no task on them.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TaskState, cryptoRandom, generateId, systemClock } from '@swarmkit-ts/api'
import { DockerRuntime } from '@swarmkit-ts/engine-adapter'
import { NETWORK_ID_LABEL, NetworkControl } from '@swarmkit-ts/network'
import { WorkerNode, runtimeInstanceOf } from '../src/worker/index.ts'
import { dockerSkipReason, startDocker, stopDocker } from './helpers/worker-docker.ts'
import type { TestDocker } from './helpers/worker-docker.ts'
import { TestManager, httpResponse, until } from './helpers/worker-manager.ts'

const skip = dockerSkipReason() !== undefined
const GUARD_MS = 90_000

describe.skipIf(skip)('WorkerNode on Docker', () => {
  let docker: TestDocker | undefined
  let root = ''
  let manager: TestManager | undefined
  let node: WorkerNode | undefined
  let stateDir = ''

  beforeAll(async () => {
    docker = await startDocker()
    root = await mkdtemp(join(tmpdir(), 'core-worker-docker-'))
  }, 300_000)

  afterEach(async () => {
    await node?.stop()
    await manager?.close()
    if (docker === undefined || stateDir === '') return
    const rt = new DockerRuntime({ socketPath: docker.socket, instance: runtimeInstanceOf(stateDir), stateDir: join(root, 'cleanup'), allowPull: false })
    for (const c of await rt.list()) await rt.remove(c.id, { force: true })
    for (const n of await rt.listNetworks()) await rt.removeNetwork(n.id)
    await rt.close()
  }, 120_000)

  afterAll(async () => {
    if (docker !== undefined) await stopDocker()
    await rm(root, { recursive: true, force: true })
  }, 120_000)

  it('attaches a task to a bridge with its allocated address, publishes its port at its status.portStatus, and removes the bridges after the service', { timeout: 240_000 }, async () => {
    if (docker === undefined) throw new Error('dockerd not started')
    // A pool of its own (10.2xx.y.0/24 in /28s): the test engine is shared with other suites.
    const pool = `10.${String(200 + ((randomBytes(1)[0] ?? 0) % 50))}.${String((randomBytes(1)[0] ?? 0) % 250)}.0/24`
    manager = await new TestManager().start({ addressPool: pool, subnetSize: 28 })
    const front = await new NetworkControl({ store: manager.store, clock: systemClock, random: cryptoRandom }).create({ annotations: { name: 'front' } })
    const nodeId = generateId(manager.random)
    stateDir = join(root, nodeId)
    node = new WorkerNode({
      stateDir,
      dispatcher: manager.connector(nodeId),
      runtime: 'docker',
      runtimeOptions: { docker: { socketPath: docker.socket, allowPull: false } },
      random: manager.random,
    })
    await node.start()
    const runtime = node.runtime
    if (!(runtime instanceof DockerRuntime)) throw new Error('runtime "docker" should open a DockerRuntime')

    const service = await manager.services.create({
      annotations: { name: 'web' },
      mode: { replicated: { replicas: 1 } },
      task: {
        container: { image: docker.image, command: ['sh', '-c', 'mkdir -p /www && echo hello from docker > /www/index.html && exec httpd -f -p 8080 -h /www'], stopGracePeriodMs: 1000 },
        networks: [{ target: 'front' }],
      },
      endpoint: { ports: [{ targetPort: 8080, publishMode: 'host' }] },
    })
    await until(() => manager?.tasks(service.id).some((t) => t.status.state === TaskState.RUNNING && t.status.portStatus !== undefined) === true, 'the task running with its port status', GUARD_MS)
    const [task] = manager.tasks(service.id)
    const [container] = await runtime.list()
    const published = container?.ports[0]?.published ?? 0
    expect(task?.status.portStatus).toEqual({ ports: [{ protocol: 'tcp', targetPort: 8080, publishedPort: published, publishMode: 'host' }] })
    await until(async () => (await httpResponse(published).catch(() => '')).includes('hello from docker'), 'httpd answering on the published port', GUARD_MS)

    const address = task?.networks?.find((a) => a.networkId === front.id)?.addresses?.[0]
    const [bridge] = await runtime.listNetworks({ labels: { [NETWORK_ID_LABEL]: front.id } })
    expect(bridge?.subnets).toEqual([{ subnet: front.ipam?.configs?.[0]?.subnet, gateway: front.ipam?.configs?.[0]?.gateway }])
    expect(bridge?.containers.map((c) => [c.id, c.ipv4Address])).toEqual([[container?.id, address]])

    await manager.services.remove(service.id)
    await until(async () => (await runtime.list()).length === 0, 'the container removed', GUARD_MS)
    await until(async () => (await runtime.listNetworks()).length === 0, 'the bridges removed', GUARD_MS)
  })
})
