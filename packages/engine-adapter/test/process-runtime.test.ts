import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join, relative } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ProcessRuntime, createBusyboxImage, type RuntimeContainerSpec, type ProcessImage, type RuntimeEvent } from '../src/index.ts'
import { pathRewriter } from '../src/process/process-launch.ts'
import { processStartTime } from '../src/process/process-record.ts'
import { busyboxHost } from './helpers/busybox.ts'

const host = busyboxHost()
const IMAGE = 'busybox'
let root = ''
let image: ProcessImage
const open: ProcessRuntime[] = []

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'swarmkit-process-'))
  image = await createBusyboxImage(join(root, 'bin'), host.busybox)
})

afterEach(async () => {
  for (const rt of open.splice(0)) {
    for (const c of await rt.list()) await rt.remove(c.id, { force: true }).catch(() => undefined)
    await rt.close()
  }
  await rm(root, { recursive: true, force: true })
})

async function runtime(recover?: 'adopt' | 'kill'): Promise<ProcessRuntime> {
  const rt = await ProcessRuntime.open({ stateDir: join(root, 'state'), images: { [IMAGE]: image }, ...(recover === undefined ? {} : { recover }) })
  open.push(rt)
  return rt
}

async function closeRuntime(rt: ProcessRuntime): Promise<void> {
  open.splice(open.indexOf(rt), 1)
  await rt.close()
}

const sh = (script: string, rest: Partial<RuntimeContainerSpec> = {}): RuntimeContainerSpec => ({ image: IMAGE, command: ['sh', '-c', script], ...rest })

async function stdout(rt: ProcessRuntime, id: string): Promise<string[]> {
  const out: string[] = []
  for await (const l of rt.logs(id)) if (l.stream === 'stdout') out.push(l.line)
  return out
}

async function waitForLine(rt: ProcessRuntime, id: string, text: string): Promise<void> {
  const ac = new AbortController()
  for await (const l of rt.logs(id, { follow: true, signal: ac.signal })) if (l.line === text) ac.abort()
}

async function eventsUntil(rt: ProcessRuntime, since: string | undefined, done: (es: RuntimeEvent[]) => boolean): Promise<RuntimeEvent[]> {
  const ac = new AbortController()
  const out: RuntimeEvent[] = []
  for await (const e of rt.events({ signal: ac.signal, ...(since === undefined ? {} : { since }) })) {
    out.push(e)
    if (done(out)) ac.abort()
  }
  return out
}

describe.skipIf(host.skipped)('ProcessRuntime', () => {
  it('runs the workload in its own process group: stop reaches its children too', async () => {
    const rt = await runtime()
    const id = await rt.create(sh('sleep 1000 & echo "child=$!"; echo ready; wait'))
    await rt.start(id)
    await waitForLine(rt, id, 'ready')
    const child = Number((await stdout(rt, id))[0]?.split('=')[1])
    expect(await processStartTime(child)).toEqual(expect.any(String))
    await rt.stop(id, { graceMs: 5_000 })
    expect(await rt.wait(id)).toBe(143)
    expect(await processStartTime(child)).toBe(undefined)
  })

  it('passes the allocated host port in PORT and publishes it as such', async () => {
    const rt = await runtime()
    const id = await rt.create(sh('echo "$PORT"', { ports: [{ target: 80 }] }))
    await rt.start(id)
    await rt.wait(id)
    const [port] = (await rt.inspect(id)).ports
    expect(port?.target).toBe(80)
    expect(await stdout(rt, id)).toEqual([String(port?.published)])
  })

  it('delivers files into a private directory and rewrites their paths in command and env', async () => {
    const rt = await runtime()
    const spec = sh('echo "$CONF"; cat /run/secrets/a; cat /run/secrets/ab', {
      env: { CONF: '/run/secrets/a' },
      files: [
        { target: '/run/secrets/a', data: 'one\n', mode: 0o400 },
        { target: '/run/secrets/ab', data: 'two\n', mode: 0o440 },
      ],
    })
    const id = await rt.create(spec)
    const real = join(root, 'state', 'containers', id, 'files', 'run', 'secrets', 'a')
    expect((await stat(real)).mode & 0o7777).toBe(0o400)
    expect((await stat(join(root, 'state', 'containers', id))).mode & 0o777).toBe(0o700)
    await rt.start(id)
    expect(await rt.wait(id)).toBe(0)
    expect(await stdout(rt, id)).toEqual([real, 'one', 'two'])
    await rt.remove(id)
    await expect(stat(real)).rejects.toThrow(expect.objectContaining({ code: 'ENOENT' }))
  })

  it('rewrites whole paths only', () => {
    const rewrite = pathRewriter(['/a/b', '/a/bc'], '/F')
    expect(rewrite('cat /a/b /a/bc /a/b/x /a/bcd "/a/b"')).toBe('cat /F/a/b /F/a/bc /F/a/b/x /a/bcd "/F/a/b"')
  })

  it('reports 126 for a command that is not executable and refuses a missing working directory', async () => {
    const rt = await runtime()
    const script = join(root, 'not-executable.sh')
    await writeFile(script, 'echo hi\n', { mode: 0o644 })
    const notExec = await rt.create({ image: IMAGE, command: [script] })
    await expect(rt.start(notExec)).rejects.toThrow(expect.objectContaining({ name: 'ContainerStartError', exitCode: 126 }))
    const noDir = await rt.create({ image: IMAGE, command: ['true'], workingDir: '/swarmkit-ts-no-such-dir' })
    await expect(rt.start(noDir)).rejects.toThrow(expect.objectContaining({ name: 'ContainerStartError', exitCode: 126 }))
    expect((await rt.inspect(noDir)).error).toBe('working directory /swarmkit-ts-no-such-dir does not exist on the host')
  })

  it('reads a reference without a tag as the tag latest, as Docker does (busybox:latest runs the busybox image)', async () => {
    const rt = await runtime()
    await rt.pullImage(`${IMAGE}:latest`)
    const id = await rt.create(sh('echo tagged', { image: `${IMAGE}:latest` }))
    await rt.start(id)
    expect(await rt.wait(id)).toBe(0)
    expect(await stdout(rt, id)).toEqual(['tagged'])
    await expect(rt.pullImage(`${IMAGE}:1.36`)).rejects.toThrow(expect.objectContaining({ name: 'ImageNotFoundError' }))
  })

  it('refuses resource limits it cannot enforce', async () => {
    const rt = await runtime()
    await expect(rt.create(sh('true', { resources: { memoryBytes: 1 << 20 } }))).rejects.toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'resources.memoryBytes' }),
    )
  })
})

describe.skipIf(host.skipped)('ProcessRuntime after a restart', () => {
  it('adopts a process that still runs, with its logs, and reports its exit code later', async () => {
    const first = await runtime()
    const id = await first.create(sh("trap 'echo bye; exit 9' TERM; echo ready; while true; do sleep 0.1; done", { labels: { app: 'a' } }))
    await first.start(id)
    await waitForLine(first, id, 'ready')
    await closeRuntime(first)

    const second = await runtime('adopt')
    expect(second.recovered).toEqual([{ id, pid: expect.any(Number) as number, outcome: 'adopted' }])
    expect(await second.inspect(id)).toMatchObject({ state: 'running', labels: { app: 'a' } })
    expect(await stdout(second, id)).toEqual(['ready'])
    const events = eventsUntil(second, undefined, (es) => es.some((e) => e.type === 'die'))
    await second.stop(id, { graceMs: 10_000 })
    expect(await second.wait(id)).toBe(9)
    expect(await stdout(second, id)).toEqual(['ready', 'bye'])
    expect((await events).map((e) => (e.type === 'die' ? `die:${e.exitCode}` : e.type))).toEqual(['die:9'])
  })

  it('reports a process that exited while no runtime watched, with the recorded exit code', async () => {
    const first = await runtime()
    const id = await first.create(sh('echo ready; sleep 0.5; echo done; exit 6'))
    await first.start(id)
    await waitForLine(first, id, 'ready')
    await closeRuntime(first)
    const pid = (await readRecordPid(id)) ?? 0
    while ((await processStartTime(pid)) !== undefined) await new Promise((r) => setTimeout(r, 50))
    await new Promise((r) => setTimeout(r, 200)) // the shim writes the exit code right after

    const second = await runtime()
    expect(second.recovered).toEqual([{ id, pid, outcome: 'exited' }])
    expect(await second.inspect(id)).toMatchObject({ state: 'exited', exitCode: 6 })
    expect(await stdout(second, id)).toEqual(['ready', 'done'])
  })

  it('kills leftover processes with recover: kill', async () => {
    const first = await runtime()
    const id = await first.create(sh('echo ready; sleep 1000'))
    await first.start(id)
    await waitForLine(first, id, 'ready')
    await closeRuntime(first)
    const second = await runtime('kill')
    expect(second.recovered).toEqual([{ id, pid: expect.any(Number) as number, outcome: 'killed' }])
    expect(await second.wait(id)).toBe(137)
    expect((await second.inspect(id)).state).toBe('exited')
  })

  it('keeps created and exited containers, and refuses cursors of the earlier instance', async () => {
    const first = await runtime()
    const created = await first.create(sh('true', { name: 'kept' }))
    const exited = await first.create(sh('echo x; exit 2'))
    const [ev] = await Promise.all([eventsUntil(first, undefined, (es) => es.some((e) => e.type === 'die')), first.start(exited)])
    await closeRuntime(first)
    const second = await runtime()
    expect(second.recovered).toEqual([])
    expect((await second.inspect(created)).state).toBe('created')
    expect(await second.inspect(exited)).toMatchObject({ state: 'exited', exitCode: 2 })
    expect(await stdout(second, exited)).toEqual(['x'])
    await expect(second.create(sh('true', { name: 'kept' }))).rejects.toThrow(expect.objectContaining({ name: 'AlreadyExistsError' }))
    const cursor = ev[ev.length - 1]?.cursor ?? ''
    await expect(second.events({ since: cursor })[Symbol.asyncIterator]().next()).rejects.toThrow(
      expect.objectContaining({ name: 'FailedPreconditionError', reason: 'events-truncated' }),
    )
    await second.start(created)
    expect(await second.wait(created)).toBe(0)
  })
})

async function readRecordPid(id: string): Promise<number | undefined> {
  const raw = JSON.parse(await readFile(join(root, 'state', 'containers', id, 'container.json'), 'utf8')) as { pid?: number }
  return raw.pid
}

describe.skipIf(host.skipped)('ProcessRuntime with relative paths (resolved against the cwd at open)', () => {
  const rel = (p: string): string => {
    const r = relative(process.cwd(), p)
    expect(isAbsolute(r)).toBe(false)
    return r
  }
  const opened = async (init: Parameters<typeof ProcessRuntime.open>[0]): Promise<ProcessRuntime> => {
    const rt = await ProcessRuntime.open(init)
    open.push(rt)
    return rt
  }

  it('a relative stateDir: wait gives the exit code, the logs are read, the files are under the resolved dir', async () => {
    const rt = await opened({ stateDir: rel(join(root, 'state')), images: { [IMAGE]: image } })
    const id = await rt.create(sh('echo out; echo err >&2; exit 3'))
    await rt.start(id)
    expect(await rt.wait(id)).toBe(3)
    expect(await stdout(rt, id)).toEqual(['out'])
    expect(await readFile(join(root, 'state', 'containers', id, 'stderr.log'), 'utf8')).toBe('err\n')
  })

  it('a relative image path: commands are found and run with an absolute PATH; a missing one fails start with 127', async () => {
    const rt = await opened({ stateDir: join(root, 'state'), images: { [IMAGE]: { path: [rel(join(root, 'bin'))], cmd: ['sh'] } } })
    const id = await rt.create(sh('echo "$PATH"; exit 4'))
    await rt.start(id)
    expect(await rt.wait(id)).toBe(4)
    expect(await stdout(rt, id)).toEqual([join(root, 'bin')])
    const missing = await rt.create({ image: IMAGE, command: ['swarmkit-ts-no-such-command'] })
    await expect(rt.start(missing)).rejects.toThrow(expect.objectContaining({ name: 'ContainerStartError', exitCode: 127 }))
  })

  it('createBusyboxImage with a relative directory gives an absolute path', async () => {
    expect(await createBusyboxImage(rel(join(root, 'bin2')), host.busybox)).toEqual({ path: [join(root, 'bin2')], cmd: ['sh'] })
  })

  it('a command with a "/" is taken relative to the working directory, as execvp does after chdir', async () => {
    const rt = await opened({ stateDir: join(root, 'state'), images: { [IMAGE]: image } })
    const id = await rt.create({ image: IMAGE, command: ['./bin/echo', 'relative'], workingDir: root })
    await rt.start(id)
    expect(await rt.wait(id)).toBe(0)
    expect(await stdout(rt, id)).toEqual(['relative'])
    const missing = await rt.create({ image: IMAGE, command: ['bin/swarmkit-ts-none'], workingDir: root })
    await expect(rt.start(missing)).rejects.toThrow(expect.objectContaining({ name: 'ContainerStartError', exitCode: 127 }))
  })

  it('image keys are references, not paths', async () => {
    await expect(ProcessRuntime.open({ stateDir: join(root, 'state'), images: { '/opt/busybox': image } })).rejects.toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'images["/opt/busybox"]' }),
    )
  })
})
