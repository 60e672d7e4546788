/**
 * WorkerNode with `runtime: 'containerd'` on the private test containerd: the node opens a
 * ContainerdRuntime with its files under `<stateDir>/runtime/containerd`, and a busybox httpd task
 * (host network, listening on `$PORT`) answers on 127.0.0.1 at the port in its `status.portStatus`;
 * stopping the node removes its containers (this runtime cannot adopt them) and a restart runs
 * the task again.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TaskState, generateId } from '@swarmkit-ts/api'
import { ContainerdRuntime } from '@swarmkit-ts/engine-adapter'
import { WorkerNode, runtimeInstanceOf, runtimeStateDir } from '../src/worker/index.ts'
import { containerdSkipReason, startContainerd, stopContainerd } from './helpers/worker-containerd.ts'
import type { TestContainerd } from './helpers/worker-containerd.ts'
import { TestManager, httpResponse, until } from './helpers/worker-manager.ts'

const skip = containerdSkipReason() !== undefined
const GUARD_MS = 90_000
const IMAGE = 'core-worker/busybox:test'

describe.skipIf(skip)('WorkerNode on containerd', () => {
  let containerd: TestContainerd | undefined
  let root = ''
  let manager: TestManager | undefined
  let node: WorkerNode | undefined
  let stateDir = ''

  beforeAll(async () => {
    containerd = await startContainerd()
    root = await mkdtemp(join(tmpdir(), 'core-worker-containerd-'))
  }, 300_000)

  afterEach(async () => {
    await node?.stop()
    await manager?.close()
    if (containerd === undefined || stateDir === '') return
    const rt = new ContainerdRuntime({ socketPath: containerd.socket, namespace: containerd.namespace, instance: runtimeInstanceOf(stateDir), stateDir: join(root, 'cleanup') })
    for (const c of await rt.list()) await rt.remove(c.id, { force: true })
    await rt.close()
  }, 120_000)

  afterAll(async () => {
    if (containerd !== undefined) await stopContainerd()
    await rm(root, { recursive: true, force: true })
  }, 120_000)

  it('runs a busybox httpd task on the host network, reachable at the port in its status.portStatus, and runs it again after a restart without an orphan', { timeout: 240_000 }, async () => {
    if (containerd === undefined) throw new Error('containerd not started')
    manager = await new TestManager().start()
    const nodeId = generateId(manager.random)
    stateDir = join(root, nodeId)
    node = new WorkerNode({
      stateDir,
      dispatcher: manager.connector(nodeId),
      runtime: 'containerd',
      runtimeOptions: { containerd: { socketPath: containerd.socket, namespace: containerd.namespace } },
      random: manager.random,
    })
    await node.start()
    const runtime = node.runtime
    if (!(runtime instanceof ContainerdRuntime)) throw new Error('runtime "containerd" should open a ContainerdRuntime')
    await runtime.importImage(IMAGE, containerd.imageTar)

    const service = await manager.services.create({
      annotations: { name: 'web' },
      mode: { replicated: { replicas: 1 } },
      task: { container: { image: IMAGE, command: ['sh', '-c', 'mkdir -p /tmp/www && echo hello from containerd > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:$PORT -h /tmp/www'], stopGracePeriodMs: 1000 } },
      endpoint: { ports: [{ targetPort: 8080, publishMode: 'ingress' }] },
    })
    await until(() => manager?.tasks(service.id).some((t) => t.status.state === TaskState.RUNNING && t.status.portStatus !== undefined) === true, 'the task running with its port status', GUARD_MS)
    const [task] = manager.tasks(service.id)
    const [container] = await runtime.list()
    const published = container?.ports[0]?.published ?? 0
    expect(task?.status.portStatus).toEqual({ ports: [{ protocol: 'tcp', targetPort: 8080, publishedPort: published, publishMode: 'host' }] })
    await until(async () => (await httpResponse(published).catch(() => '')).includes('hello from containerd'), 'httpd answering on the published port', GUARD_MS)
    expect((await stat(runtimeStateDir(stateDir, 'containerd'))).isDirectory()).toBe(true)

    // ContainerdRuntime cannot adopt an earlier instance's containers: stop removes them, and the
    // restarted node runs the service again — one container, no orphan beside it.
    await node.stop()
    await expect(httpResponse(published)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    await node.start()
    const again = node.runtime
    if (again === undefined) throw new Error('the node should have a runtime once started')
    await until(async () => (await again.list()).some((c) => c.state === 'running'), 'a container running again', GUARD_MS)
    await until(() => manager?.tasks(service.id).filter((t) => t.status.state === TaskState.RUNNING).length === 1, 'one task running', GUARD_MS)
    const [rerun] = await again.list()
    const port = rerun?.ports[0]?.published ?? 0
    await until(async () => (await httpResponse(port).catch(() => '')).includes('hello from containerd'), 'httpd answering again', GUARD_MS)
    expect((await again.list()).length).toBe(1)
  })
})
