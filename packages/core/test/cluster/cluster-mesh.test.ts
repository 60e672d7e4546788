/**
 * The routing mesh of cluster nodes (`mesh: { listenAddress }`): a manager's mesh answers a
 * published port for a task that runs on a worker, on the `process` runtime with its default
 * `node` image (nothing installed but Node.js); bad mesh options name their field.
 */
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, TaskState } from '@swarmkit-ts/api'
import { Cluster, type ClusterNode } from '../../src/cluster/index.ts'
import { nodeProcessImage } from '../../src/worker/index.ts'
import { freePort, httpGet as get } from '../../../../scripts/test-support/http.ts'
import { ClusterRig, FAST, until } from './rig.ts'

const rig = new ClusterRig()

/** A web server for the `node` image: answers `web <WHO>` on `PORT` (the port the process runtime allocated). */
const WEB = "require('http').createServer((q, s) => s.end('web ' + process.env.WHO)).listen(Number(process.env.PORT))"

describe('Cluster routing mesh', () => {
  it('a manager with mesh.listenAddress answers a published port for a task running on a worker (process runtime, node image)', { timeout: 240_000 }, async () => {
    const port = await freePort()
    const m1 = await rig.init({ runtime: 'process', mesh: { listenAddress: '127.0.0.1' } })
    const w1 = await rig.join(m1, 'worker', { runtime: 'process' })
    const service = await m1.services.create({
      annotations: { name: 'web' },
      mode: { replicated: { replicas: 1 } },
      task: { container: { image: 'node', command: ['node', '-e', WEB], env: ['WHO=on-the-worker'] }, placement: { constraints: ['node.role==worker'] } },
      endpoint: { ports: [{ targetPort: 80, publishedPort: port }] },
    })
    await until(async () => (await m1.tasks.list({ serviceIds: [service.id] })).some((t) => t.status.state === TaskState.RUNNING), 'the web task running', 180_000)
    const tasks = await m1.tasks.list({ serviceIds: [service.id] })
    expect(tasks.map((t) => t.nodeId)).toEqual([w1.nodeId])
    let body: string | undefined
    await until(async () => (body = await get('127.0.0.1', port)) !== undefined, 'an answer through the mesh', 120_000)
    expect(body).toBe('web on-the-worker')
  })

  it('a worker started with a mesh listens on nothing (it has no store), and serves the published port once promoted', { timeout: 240_000 }, async () => {
    const port = await freePort()
    const m1 = await rig.init({ runtime: 'process', mesh: { listenAddress: '127.0.0.1' } })
    const w1 = await rig.join(m1, 'worker', { runtime: 'process', mesh: { listenAddress: '127.0.0.2' } })
    if (w1.role !== 'worker') throw new Error('joined as a manager')
    const service = await m1.services.create({
      annotations: { name: 'web' },
      mode: { replicated: { replicas: 1 } },
      task: { container: { image: 'node', command: ['node', '-e', WEB], env: ['WHO=anywhere'] } },
      endpoint: { ports: [{ targetPort: 80, publishedPort: port }] },
    })
    await until(async () => (await m1.tasks.list({ serviceIds: [service.id] })).some((t) => t.status.state === TaskState.RUNNING), 'the web task running', 180_000)
    await until(async () => (await get('127.0.0.1', port)) === 'web anywhere', "an answer through the manager's mesh", 120_000)
    expect(w1.worker.mesh?.listeners()).toEqual([])

    const promoted = new Promise<ClusterNode>((resolve) => w1.once('role', (e) => resolve(rig.track(e.node))))
    await until(async () => m1.nodes.promote(w1.nodeId).then(() => true, () => false), 'the promotion accepted')
    const m2 = await promoted
    expect(m2.role).toBe('manager')
    await until(async () => (await get('127.0.0.2', port)) === 'web anywhere', "an answer through the promoted node's mesh", 120_000)
  })

  it('refuses a mesh listen address that is not an IP, naming mesh.listenAddress', async () => {
    const stateDir = await rig.dir()
    const init = Cluster.init({ stateDir, listenAddr: '127.0.0.1:0', ...FAST, mesh: { listenAddress: 'localhost' } })
    await expect(init).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(init).rejects.toMatchObject({ field: 'mesh.listenAddress' })
  })

  it("the process runtime's node image runs this Node.js: its PATH is process.execPath's directory, its command node", () => {
    const image = nodeProcessImage()
    expect(image).toEqual({ path: [process.execPath.slice(0, process.execPath.lastIndexOf('/'))], cmd: ['node'] })
  })
})
