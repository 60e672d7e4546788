import { createHash, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContainerdGrpc, containerdProtoRoot, type Msg } from '../src/containerd/containerd-grpc.ts'
import { chainIdOf } from '../src/containerd/containerd-image.ts'
import { ContainerdRuntime } from '../src/containerd/containerd-runtime.ts'
import { buildOciSpec } from '../src/containerd/containerd-spec.ts'
import { reportSkipped, startEngine, stopEngine, type EngineEnv } from './helpers/engines.ts'

describe('containerd wire and spec (no engine)', () => {
  it('encodes Content.Write requests with containerd field numbers', () => {
    const t = containerdProtoRoot().lookupType('containerd.services.content.v1.WriteContentRequest')
    const bytes = t.encode(t.fromObject({ action: 'COMMIT', ref: 'r', total: 3, expected: 'sha256:x', offset: 3 })).finish()
    // action=2 (field 1, varint), ref (2, bytes), total (3, varint), expected (4, bytes), offset (5, varint)
    expect(Buffer.from(bytes).toString('hex')).toBe(`0802${'1201'}72${'1803'}${'2208'}${Buffer.from('sha256:x').toString('hex')}2803`)
  })

  it('computes OCI ChainIDs', () => {
    const a = 'sha256:aaa'
    const b = 'sha256:bbb'
    expect(chainIdOf([a])).toBe(a)
    expect(chainIdOf([a, b])).toBe(`sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`)
  })

  it('builds a spec with limits, read-only file mounts and no network namespace', () => {
    const spec = buildOciSpec({
      args: ['sh'], env: ['A=1'], cwd: '/w', hostname: 'h', files: [{ source: '/host/0', target: '/run/secrets/s' }],
      hostBinds: [], memoryBytes: 1024, nanoCpus: 250_000_000, cgroupsPath: '/x/y', nofile: 1000,
    }) as { linux: { resources: unknown; namespaces: { type: string }[] }; mounts: { destination: string; options: string[] }[]; process: { rlimits: unknown } }
    expect(spec.linux.resources).toEqual({ devices: [{ allow: false, access: 'rwm' }], memory: { limit: 1024 }, cpu: { quota: 25_000, period: 100_000 } })
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount'])
    expect(spec.mounts.find((m) => m.destination === '/run/secrets/s')?.options).toEqual(['rbind', 'ro'])
    expect(spec.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 1000, soft: 1000 }])
  })
})

const skipped = reportSkipped('containerd')

const IMAGE = 'swarmkit-test/busybox:latest'

describe.skipIf(skipped)('ContainerdRuntime specifics', () => {
  let env: EngineEnv
  let rt: ContainerdRuntime
  beforeAll(async () => {
    env = await startEngine('containerd')
    rt = new ContainerdRuntime({ socketPath: env.containerdSocket, namespace: env.containerdNamespace, stateDir: join(env.dir, 'containerd-state', randomUUID()) })
    await rt.importImage(IMAGE, env.imageTar)
  }, 300_000)
  afterAll(async () => {
    await rt?.close()
    if (env !== undefined) await stopEngine('containerd')
  }, 120_000)

  it('imports a rootfs tarball as an image (idempotently) whose config supplies the default command', async () => {
    const ref = `swarmkit-test/with-cmd:${randomUUID().slice(0, 8)}`
    await rt.importImage(ref, env.imageTar, { cmd: ['echo', 'from-image-config'], env: ['PATH=/bin', 'GREETING=hi'] })
    await rt.importImage(ref, env.imageTar, { cmd: ['echo', 'from-image-config'], env: ['PATH=/bin', 'GREETING=hi'] })
    await expect(rt.pullImage(ref)).resolves.toBe(undefined)
    const id = await rt.create({ image: ref })
    await rt.start(id)
    expect(await rt.wait(id)).toBe(0)
    const lines: string[] = []
    for await (const l of rt.logs(id)) lines.push(l.line)
    expect(lines).toEqual(['from-image-config'])
    const env2 = await rt.create({ image: ref, command: ['sh', '-c', 'echo "$GREETING $PATH"'], env: { PATH: '/bin:/usr/bin' } })
    await rt.start(env2)
    await rt.wait(env2)
    const out: string[] = []
    for await (const l of rt.logs(env2)) out.push(l.line)
    expect(out).toEqual(['hi /bin:/usr/bin'])
    await rt.remove(id)
    await rt.remove(env2)
  }, 60_000)

  it('sees the task events of its containers on containerd\'s own event stream (Events.Subscribe, decoded payloads)', async () => {
    const grpc = new ContainerdGrpc({ socketPath: env.containerdSocket, namespace: env.containerdNamespace })
    const stream = grpc.serverStream('containerd.services.events.v1.Events', 'Subscribe', { filters: ['topic~="/tasks/"'] })
    const seen: string[] = []
    let id = ''
    const reading = (async () => {
      for await (const envelope of stream.messages) {
        const decoded = grpc.decodeAny(envelope['event'] as Msg)
        if (decoded === undefined || decoded.value['containerId'] !== id) continue
        seen.push(`${String(envelope['topic'])}:${decoded.type}${decoded.type === 'containerd.events.TaskExit' ? `:${String(decoded.value['exitStatus'])}` : ''}`)
        if (decoded.type === 'containerd.events.TaskDelete') break
      }
    })()
    try {
      await new Promise((r) => setTimeout(r, 200))
      id = await rt.create({ image: IMAGE, command: ['sh', '-c', 'exit 3'] })
      await rt.start(id)
      expect(await rt.wait(id)).toBe(3)
      await reading
      expect(seen).toEqual([
        '/tasks/create:containerd.events.TaskCreate',
        '/tasks/start:containerd.events.TaskStart',
        '/tasks/exit:containerd.events.TaskExit:3',
        '/tasks/delete:containerd.events.TaskDelete',
      ])
      await rt.remove(id)
    } finally {
      stream.cancel()
      grpc.close()
      await reading.catch(() => undefined)
    }
  }, 60_000)

  it('refuses a tail that is not a whole number ≥ 0 and a since that is not finite, naming the field', async () => {
    const id = await rt.create({ image: IMAGE, command: ['echo', 'a'] })
    for (const [options, field] of [[{ tail: -1 }, 'tail'], [{ tail: 1.5 }, 'tail'], [{ since: Number.NaN }, 'since']] as const) {
      const read = async (): Promise<void> => {
        for await (const l of rt.logs(id, options)) expect(l).toBe(undefined)
      }
      await expect(read()).rejects.toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    }
    await rt.remove(id)
  })

  it('pullImage of an image that is not present rejects with ImageNotFoundError (no registry access)', async () => {
    await expect(rt.pullImage('swarmkit-ts.invalid/absent:1')).rejects.toThrow(
      expect.objectContaining({ name: 'ImageNotFoundError', ref: 'swarmkit-ts.invalid/absent:1' }),
    )
  })
})
