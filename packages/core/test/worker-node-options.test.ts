/**
 * WorkerNode's options and lifecycle: bad options are refused naming the field, the state
 * directory gets its documented layout, a failed start leaves nothing running.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError, generateId } from '@swarmkit-ts/api'
import type { DispatcherApi } from '@swarmkit-ts/api'
import { StaticEndpointSource } from '@swarmkit-ts/network'
import { WorkerNode, runtimeInstanceOf, validateWorkerNodeInit } from '../src/worker/index.ts'
import type { WorkerNodeInit } from '../src/worker/index.ts'
import { TestManager, until } from './helpers/worker-manager.ts'

let root = ''
let manager: TestManager
const nodes: WorkerNode[] = []

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'core-worker-options-'))
  manager = await new TestManager().start()
})

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  await manager.close()
  await rm(root, { recursive: true, force: true })
})

const dispatcher = (): DispatcherApi => {
  throw new Error('not called')
}

/** The field of the InvalidArgumentError `run` throws. */
function fieldOf(run: () => unknown): string {
  try {
    run()
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.field
    throw err
  }
  throw new Error('no error thrown')
}

describe('WorkerNode options', () => {
  it.each([
    ['stateDir', { stateDir: '' }],
    ['dispatcher', { dispatcher: 'grpc://m1' }],
    ['runtime', { runtime: 'podman' }],
    ['runtime', { runtime: { describe: () => undefined } }],
    ['nodeAddress', { nodeAddress: 'node-1.local' }],
    ['hostname', { hostname: '' }],
    ['mesh.source', { mesh: { source: {} } }],
    ['mesh.source', { mesh: { listenAddress: '127.0.0.1' } }],
    ['store', { store: {} }],
    ['rpcTimeoutMs', { rpcTimeoutMs: -1 }],
    ['descriptionCheckMs', { descriptionCheckMs: 1.5 }],
    ['networking.networkPlugins[1]', { networking: { networkPlugins: ['overlay', ''] } }],
    ['managers[0].addr', { managers: [{ nodeId: 'm1', addr: '', weight: 1 }] }],
  ])('refuses a bad %s with InvalidArgumentError naming it', (field, bad) => {
    const init = { stateDir: join(root, 'n'), dispatcher, ...bad } as unknown as WorkerNodeInit
    expect(fieldOf(() => validateWorkerNodeInit(init))).toBe(field)
    expect(fieldOf(() => new WorkerNode(init))).toBe(field)
  })

  it('a bad mesh option rejects start naming mesh.<field>, before anything is created', async () => {
    const stateDir = join(root, 'n1')
    const node = new WorkerNode({ stateDir, dispatcher, runtime: 'fake', mesh: { source: new StaticEndpointSource(), failurePauseMs: -5 } })
    await expect(node.start()).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'mesh.failurePauseMs' })
    await expect(stat(stateDir)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(node.runtime).toBeUndefined()
  })
})

describe('WorkerNode lifecycle', () => {
  it('opens the process runtime by default in the documented state directory layout', async () => {
    const nodeId = generateId(manager.random)
    const stateDir = join(root, nodeId)
    const node = new WorkerNode({ stateDir, dispatcher: manager.connector(nodeId), random: manager.random })
    nodes.push(node)
    await node.start()
    expect((await node.runtime?.describe())?.name).toBe('process')
    await until(() => node.nodeId === nodeId, 'registered')
    const isDir = async (p: string): Promise<boolean> => (await stat(join(stateDir, p))).isDirectory()
    expect(await Promise.all(['worker', 'runtime/process/containers', 'runtime/images/busybox'].map(isDir))).toEqual([true, true, true])
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700)
    await node.stop()
    expect(node.runtime).toBeUndefined()
    expect(node.status).toBeUndefined()
  })

  it('a start that fails (its task database cannot be opened) leaves nothing running, and the node starts once fixed', async () => {
    const nodeId = generateId(manager.random)
    const stateDir = join(root, nodeId)
    await mkdir(stateDir)
    await writeFile(join(stateDir, 'worker'), 'not a directory')
    const node = new WorkerNode({ stateDir, dispatcher: manager.connector(nodeId), runtime: 'fake', random: manager.random })
    nodes.push(node)
    await expect(node.start()).rejects.toMatchObject({ code: expect.stringMatching(/^(EEXIST|ENOTDIR)$/) as string })
    expect([node.runtime, node.agent, node.status]).toEqual([undefined, undefined, undefined])
    await rm(join(stateDir, 'worker'))
    await node.start()
    await until(() => node.nodeId === nodeId, 'registered after the fix')
    expect((await node.runtime?.describe())?.name).toBe('fake')
  })

  it('start and stop are idempotent and may be called concurrently', async () => {
    const nodeId = generateId(manager.random)
    const node = new WorkerNode({ stateDir: join(root, nodeId), dispatcher: manager.connector(nodeId), runtime: 'fake', random: manager.random })
    nodes.push(node)
    await Promise.all([node.start(), node.start()])
    const agent = node.agent
    await node.start()
    expect(node.agent).toBe(agent)
    await Promise.all([node.stop(), node.stop()])
    expect(node.agent).toBeUndefined()
    await node[Symbol.asyncDispose]()
  })
})

describe('runtimeInstanceOf', () => {
  it('names a node\'s containers on a shared engine after its absolute state directory: stable across restarts, distinct per node', () => {
    const here = runtimeInstanceOf('./node-a')
    expect(here).toMatch(/^swarmkit-[0-9a-f]{12}$/)
    expect(runtimeInstanceOf(join(process.cwd(), 'node-a'))).toBe(here)
    expect(runtimeInstanceOf('./node-b')).not.toBe(here)
  })
})
