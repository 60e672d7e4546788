import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DockerRuntime } from '../src/docker-runtime.ts'
import type { RuntimeEvent } from '../src/runtime.ts'
import { reportSkipped, startEngine, stopEngine, type EngineEnv } from './helpers/engines.ts'

const skipped = reportSkipped('docker')

describe.skipIf(skipped)('DockerRuntime specifics', () => {
  let env: EngineEnv
  let rt: DockerRuntime
  const made: string[] = []
  beforeAll(async () => {
    env = await startEngine('docker')
    rt = new DockerRuntime({ socketPath: env.dockerSocket, instance: `specifics-${randomUUID()}`, stateDir: join(env.dir, 'docker-files'), allowPull: false })
  }, 300_000)
  afterAll(async () => {
    if (rt !== undefined) {
      await Promise.all(made.map((id) => rt.remove(id, { force: true }).catch(() => undefined)))
      await rt.close()
    }
    if (env !== undefined) await stopEngine('docker')
  }, 120_000)

  const create = async (script: string): Promise<string> => {
    const id = await rt.create({ image: env.dockerImage, command: ['sh', '-c', script] })
    made.push(id)
    return id
  }

  it('loses and repeats no event when the engine event stream breaks while containers run', async () => {
    const ac = new AbortController()
    const events: RuntimeEvent[] = []
    const sub = rt.events({ signal: ac.signal })
    const collecting = (async () => {
      for await (const e of sub) events.push(e)
    })()
    const before = rt.eventStreamReconnects
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => create(`sleep 0.3; exit ${n}`)))
    await Promise.all(ids.map((id) => rt.start(id)))
    rt.interruptEventStream()
    const codes = await Promise.all(ids.map((id) => rt.wait(id)))
    expect(codes).toEqual([1, 2, 3, 4, 5])
    expect(rt.eventStreamReconnects).toBeGreaterThan(before)
    ac.abort()
    await collecting
    for (const [i, id] of ids.entries()) {
      expect(events.filter((e) => e.id === id).map((e) => (e.type === 'die' ? `die:${e.exitCode}` : e.type))).toEqual(['create', 'start', `die:${i + 1}`])
    }
  }, 60_000)

  it('reads a large non-followed log (many frames in one Buffer) completely and in order', async () => {
    const id = await create('seq 1 20000; seq 1 500 >&2')
    await rt.start(id)
    expect(await rt.wait(id)).toBe(0)
    const out: string[] = []
    const err: string[] = []
    for await (const l of rt.logs(id)) (l.stream === 'stdout' ? out : err).push(l.line)
    expect(out).toEqual(Array.from({ length: 20000 }, (_, i) => String(i + 1)))
    expect(err).toEqual(Array.from({ length: 500 }, (_, i) => String(i + 1)))
  }, 60_000)

  it('does not pull when pulling is disabled, and honours an aborted signal', async () => {
    await expect(rt.pullImage('swarmkit-ts.invalid/absent:1')).rejects.toThrow(
      expect.objectContaining({ name: 'ImageNotFoundError', ref: 'swarmkit-ts.invalid/absent:1' }),
    )
    await expect(rt.pullImage(env.dockerImage, { signal: AbortSignal.abort() })).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }))
  })

  it('does not see the containers of another instance on the same engine', async () => {
    const id = await create('true')
    const other = new DockerRuntime({ socketPath: env.dockerSocket, instance: `other-${randomUUID()}`, allowPull: false })
    try {
      await expect(other.inspect(id)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError', id }))
      expect((await other.list()).map((i) => i.id)).not.toContain(id)
    } finally {
      await other.close()
    }
  })
})
