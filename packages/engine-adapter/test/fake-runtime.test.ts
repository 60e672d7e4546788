import { ManualClock } from '@swarmkit-ts/testkit'
import { describe, expect, it } from 'vitest'
import { FakeProcess, FakeProcessKilled, FakeRuntime, type RuntimeContainerSpec, type FakeProgram, type RuntimeEvent } from '../src/index.ts'

const IMAGE = 'busybox:fake'
/** Lets promise continuations (and I/O callbacks) run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

async function advance(clock: ManualClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t))
    await flush()
  }
}

function setup(): { clock: ManualClock; rt: FakeRuntime } {
  const clock = new ManualClock(1_000_000)
  return { clock, rt: new FakeRuntime({ clock }) }
}

async function collect(it: AsyncIterable<RuntimeEvent>, ac: AbortController, n: number): Promise<RuntimeEvent[]> {
  const out: RuntimeEvent[] = []
  for await (const e of it) {
    out.push(e)
    if (out.length === n) ac.abort()
  }
  return out
}

const sh = (script: string, rest: Partial<RuntimeContainerSpec> = {}): RuntimeContainerSpec => ({ image: IMAGE, command: ['sh', '-c', script], ...rest })

describe('FakeRuntime on a ManualClock', () => {
  it('runs a script only as far as virtual time allows', async () => {
    const { clock, rt } = setup()
    const id = await rt.create(sh('echo a; sleep 5; echo b; exit 4'))
    await rt.start(id)
    await flush()
    const lines = async (): Promise<string[]> => {
      const out: string[] = []
      for await (const l of rt.logs(id)) out.push(l.line)
      return out
    }
    expect(await lines()).toEqual(['a'])
    await advance(clock, 4_990)
    expect((await rt.inspect(id)).state).toBe('running')
    await advance(clock, 10)
    expect(await lines()).toEqual(['a', 'b'])
    expect(await rt.inspect(id)).toMatchObject({ state: 'exited', exitCode: 4, startedAt: 1_000_000, finishedAt: 1_005_000 })
  })

  it('stop waits the grace period on the clock before SIGKILL', async () => {
    const { clock, rt } = setup()
    const id = await rt.create(sh("trap '' TERM; while true; do sleep 1; done"))
    await rt.start(id)
    let stopped = false
    const stopping = rt.stop(id, { graceMs: 2_000 }).then(() => (stopped = true))
    await advance(clock, 1_990)
    expect(stopped).toBe(false)
    await advance(clock, 10)
    await stopping
    expect(await rt.inspect(id)).toMatchObject({ exitCode: 137, finishedAt: 1_002_000 })
  })

  it('a container that never wrote has empty, ended logs after it exits, and none once removed', async () => {
    const { clock, rt } = setup()
    const quiet = await rt.create(sh('sleep 5; exit 3'))
    const removed = await rt.create(sh('sleep 5'))
    await rt.start(quiet)
    await rt.start(removed)
    await advance(clock, 5_000)
    expect(await rt.wait(quiet)).toBe(3)
    const lines: string[] = []
    for await (const l of rt.logs(quiet, { follow: true })) lines.push(l.line)
    expect(lines).toEqual([])
    await rt.remove(removed)
    await expect(rt.logs(removed)[Symbol.asyncIterator]().next()).rejects.toMatchObject({ name: 'NotFoundError' })
  })

  it('a program that writes through a detached io function is captured', async () => {
    const detached: FakeProgram = (_argv, { io }) => {
      const { out, err } = io
      out('to out\n')
      err('to err\n')
      return Promise.resolve(0)
    }
    const rt = new FakeRuntime({ programs: { detached } })
    expect(await runToEnd(rt, { image: IMAGE, command: ['detached'] })).toEqual({ exitCode: 0, logs: ['to out', 'to err'] })
  })

  it('a process without a TERM trap dies with 143', async () => {
    const { rt } = setup()
    const id = await rt.create(sh('sleep 100'))
    await rt.start(id)
    await rt.stop(id)
    expect(await rt.wait(id)).toBe(143)
  })

  it('gives identical event journals for identical runs', async () => {
    const run = async (): Promise<string[]> => {
      const { clock, rt } = setup()
      const ac = new AbortController()
      const events = collect(rt.events({ signal: ac.signal }), ac, 12)
      const ids = await Promise.all([1, 2, 3].map((n) => rt.create(sh(`sleep ${n}; exit ${n}`))))
      await Promise.all(ids.map((id) => rt.start(id)))
      await advance(clock, 3_000, 100)
      for (const id of ids) await rt.remove(id)
      return (await events).map((e) => `${e.time}:${e.id}:${e.type}:${e.type === 'die' ? e.exitCode : ''}:${e.cursor}`)
    }
    const first = await run()
    expect(first).toHaveLength(12)
    expect(await run()).toEqual(first)
    expect(first.filter((e) => e.includes(':die:')).map((e) => e.split(':')[0])).toEqual(['1001000', '1002000', '1003000'])
  })
})

describe('FakeRuntime failure injection', () => {
  it('exit: the process exits with the injected code after a delay, ignoring its command', async () => {
    const { clock, rt } = setup()
    rt.inject({ kind: 'exit', exitCode: 42, afterMs: 500 }, { labels: { app: 'x' } })
    const id = await rt.create(sh('sleep 1000', { labels: { app: 'x' } }))
    const other = await rt.create(sh('sleep 1000', { labels: { app: 'y' } }))
    await rt.start(id)
    await rt.start(other)
    await advance(clock, 500)
    expect(await rt.wait(id)).toBe(42)
    expect((await rt.inspect(other)).state).toBe('running')
  })

  it('start-failure: start rejects with ContainerStartError, only for `times` containers', async () => {
    const { rt } = setup()
    rt.inject({ kind: 'start-failure', message: 'boom', exitCode: 126 }, { image: IMAGE, times: 1 })
    const a = await rt.create(sh('exit 0'))
    await expect(rt.start(a)).rejects.toThrow(expect.objectContaining({ name: 'ContainerStartError', id: a, exitCode: 126 }))
    expect(await rt.inspect(a)).toMatchObject({ state: 'exited', exitCode: 126, error: 'boom' })
    expect(await rt.wait(a)).toBe(126)
    const b = await rt.create(sh('exit 0'))
    await rt.start(b)
    expect(await rt.wait(b)).toBe(0)
  })

  it('crash: a running process dies after the delay with the given code', async () => {
    const { clock, rt } = setup()
    const handle = rt.inject({ kind: 'crash', afterMs: 3_000, exitCode: 139 }, { name: 'victim' })
    const id = await rt.create(sh('while true; do sleep 1; done', { name: 'victim' }))
    await rt.start(id)
    handle.remove()
    await advance(clock, 2_990, 100)
    expect((await rt.inspect(id)).state).toBe('running')
    await advance(clock, 10)
    expect(await rt.inspect(id)).toMatchObject({ state: 'exited', exitCode: 139, finishedAt: 1_003_000 })
  })

  it('kill: a running container dies at once with the given code; refused for a stopped or unknown one', async () => {
    const { clock, rt } = setup()
    const id = await rt.create(sh('while true; do sleep 1; done'))
    await rt.start(id)
    await advance(clock, 1_500, 100)
    rt.kill(id, 3)
    expect(await rt.inspect(id)).toMatchObject({ state: 'exited', exitCode: 3, finishedAt: 1_001_500 })
    expect(await rt.wait(id)).toBe(3)
    expect(() => rt.kill(id, 3)).toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'not-running' }))
    expect(() => rt.kill('nope', 3)).toThrow(expect.objectContaining({ name: 'NotFoundError' }))
    expect(() => rt.kill(id, 256)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'exitCode' }))
  })

  it('unhealthy: probes fail regardless of the command', async () => {
    const { clock, rt } = setup()
    rt.inject({ kind: 'unhealthy' })
    const id = await rt.create(sh('sleep 1000', { healthcheck: { test: ['CMD', 'true'], intervalMs: 1_000, retries: 3 } }))
    await rt.start(id)
    expect((await rt.inspect(id)).health).toBe('starting')
    await advance(clock, 2_000, 100)
    expect((await rt.inspect(id)).health).toBe('starting')
    await advance(clock, 1_000, 100)
    expect((await rt.inspect(id)).health).toBe('unhealthy')
  })

  it('failed probes count only after the start period; a passing probe makes it healthy', async () => {
    const { clock, rt } = setup()
    const id = await rt.create(sh('sleep 1000', { healthcheck: { test: ['CMD-SHELL', 'test -f /run/ok'], intervalMs: 1_000, retries: 1, startPeriodMs: 5_000 } }))
    await rt.start(id)
    await advance(clock, 4_900, 100)
    expect((await rt.inspect(id)).health).toBe('starting')
    await advance(clock, 100, 100)
    expect((await rt.inspect(id)).health).toBe('unhealthy')
    const ok = await rt.create(sh('sleep 1000', { files: [{ target: '/run/ok', data: '' }], healthcheck: { test: ['CMD-SHELL', 'test -f /run/ok'], intervalMs: 1_000 } }))
    await rt.start(ok)
    await advance(clock, 1_000, 100)
    expect((await rt.inspect(ok)).health).toBe('healthy')
  })

  it('slow-pull: pullImage takes the injected time on the clock and reports progress', async () => {
    const clock = new ManualClock(0)
    const rt = new FakeRuntime({ clock, registry: { 'remote/app:1': { cmd: ['echo', 'hi'] } } })
    rt.inject({ kind: 'slow-pull', ms: 10_000 }, { image: 'remote/app:1' })
    await expect(rt.create({ image: 'remote/app:1' })).rejects.toThrow(expect.objectContaining({ name: 'ImageNotFoundError', ref: 'remote/app:1' }))
    const progress: string[] = []
    let done = false
    const pulling = rt.pullImage('remote/app:1', { onProgress: (p) => progress.push(`${p.status}:${p.current ?? ''}`) }).then(() => (done = true))
    await advance(clock, 9_990, 1_000)
    expect(done).toBe(false)
    await advance(clock, 10)
    await pulling
    expect(progress).toEqual(['Pulling:0', 'Downloaded:10000'])
    const { exitCode, logs } = await runToEnd(rt, { image: 'remote/app:1' })
    expect([exitCode, logs]).toEqual([0, ['hi']])
    await expect(rt.pullImage('remote/none:1')).rejects.toThrow(expect.objectContaining({ name: 'ImageNotFoundError', ref: 'remote/none:1' }))
  })

  it('an aborted pull rejects with the reason', async () => {
    const clock = new ManualClock(0)
    const rt = new FakeRuntime({ clock, registry: { 'remote/app:1': { pullMs: 5_000 } } })
    const ac = new AbortController()
    const pulling = rt.pullImage('remote/app:1', { signal: ac.signal })
    ac.abort(new Error('cancelled'))
    await expect(pulling).rejects.toThrow('cancelled')
  })

  it('image and registry keys must be well-formed references', () => {
    expect(() => new FakeRuntime({ images: { 'Local/Busybox': {} } })).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'images["Local/Busybox"]' }),
    )
    expect(() => new FakeRuntime({ registry: { 'remote/app:': {} } })).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'registry["remote/app:"]' }),
    )
  })
})

describe('FakeProcess', () => {
  it('calls onKill once, synchronously, with the exit code, after waking its sleeps', async () => {
    const calls: string[] = []
    const proc = new FakeProcess({ clock: new ManualClock(0), env: { A: '1' }, cwd: '/', files: new Map(), write: () => undefined, onKill: (code) => calls.push(`onKill ${code}`) })
    const sleeping = proc.sleep(1_000).catch((err: unknown) => calls.push(err instanceof FakeProcessKilled ? `sleep killed ${err.exitCode}` : 'other'))
    proc.kill(9)
    expect(calls).toEqual(['onKill 9'])
    proc.kill(15)
    await sleeping
    expect(calls).toEqual(['onKill 9', 'sleep killed 9'])
    expect(proc.killedCode).toBe(9)
    expect(proc.env).toEqual({ A: '1' })
  })
})

async function runToEnd(rt: FakeRuntime, spec: RuntimeContainerSpec): Promise<{ exitCode: number; logs: string[] }> {
  const id = await rt.create(spec)
  await rt.start(id)
  const exitCode = await rt.wait(id)
  const logs: string[] = []
  for await (const l of rt.logs(id)) logs.push(l.line)
  return { exitCode, logs }
}

describe('FakeRuntime programs', () => {
  it('runs custom programs by name', async () => {
    const greet: FakeProgram = (argv, { io, env }) => {
      io.out(`hello ${argv[1] ?? ''} from ${env['WHO'] ?? ''}\n`)
      return Promise.resolve(9)
    }
    const rt = new FakeRuntime({ programs: { greet } })
    expect(await runToEnd(rt, { image: IMAGE, command: ['greet', 'you'], env: { WHO: 'me' } })).toEqual({ exitCode: 9, logs: ['hello you from me'] })
    expect(await runToEnd(rt, sh('greet x && echo after; /bin/greet y || echo failed', { env: { WHO: 'sh' } }))).toEqual({
      exitCode: 0,
      logs: ['hello x from sh', 'hello y from sh', 'failed'],
    })
  })

  it('interprets the busybox shell subset', async () => {
    const rt = new FakeRuntime()
    const cases: [string, number, string[]][] = [
      ['for i in 1 2 3; do echo "n=$i"; done', 0, ['n=1', 'n=2', 'n=3']],
      ['if [ "$X" = a ]; then echo yes; else echo no; fi; exit 2', 2, ['yes']],
      ['false || echo alt; true && echo and; false && echo never', 1, ['alt', 'and']],
      ['V="a  b"; echo $V; echo "$V"', 0, ['a b', 'a  b']],
      ['echo ${MISSING:-dflt} ${X-unset}; echo $?', 0, ['dflt a', '0']],
      ['nosuch; echo "rc=$?"', 0, ['sh: nosuch: not found', 'rc=127']],
      ['seq 2 2 6; printf "%s-%s\\n" p q', 0, ['2', '4', '6', 'p-q']],
      ['echo bad >/dev/null; echo err 2>/dev/null >&2; echo ok', 0, ['ok']],
      ['i=0; while [ $i -lt 3 ]; do echo $i; i=1; [ -z "$D" ] && D=1 && i=3; done', 0, ['0']],
    ]
    for (const [script, code, lines] of cases) {
      expect(await runToEnd(rt, sh(script, { env: { X: 'a' } })), script).toEqual({ exitCode: code, logs: lines })
    }
    expect(await runToEnd(rt, sh('if then'))).toEqual({ exitCode: 2, logs: ['sh: syntax error: expected fi'] })
  })
})

describe('FakeRuntime at scale', () => {
  it('holds 100,000 containers through create, start, exit, list and remove', async () => {
    const clock = new ManualClock(0)
    const rt = new FakeRuntime({ clock, eventCapacity: 1_000 })
    const n = 100_000
    const ids: string[] = []
    for (let i = 0; i < n; i++) ids.push(await rt.create({ image: IMAGE, command: ['sleep', String(1 + (i % 10))], labels: { shard: String(i % 4) } }))
    expect(rt.size).toBe(n)
    expect(new Set(ids).size).toBe(n)
    for (const id of ids) await rt.start(id)
    expect((await rt.list({ labels: { shard: '3' } })).length).toBe(25_000)
    clock.advance(5_000)
    await flush()
    const states = (await rt.list()).reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.state]: (acc[c.state] ?? 0) + 1 }), {})
    expect(states).toEqual({ exited: 50_000, running: 50_000 })
    clock.advance(5_000)
    await flush()
    expect((await rt.list()).every((c) => c.state === 'exited' && c.exitCode === 0)).toBe(true)
    for (const id of ids.slice(0, 50_000)) await rt.remove(id)
    expect(rt.size).toBe(50_000)
  }, 120_000)

  it('refuses to resume from an event cursor that is no longer retained', async () => {
    const rt = new FakeRuntime({ eventCapacity: 10 })
    const ac = new AbortController()
    const first = collect(rt.events({ signal: ac.signal }), ac, 1)
    await rt.create({ image: IMAGE })
    const [e] = await first
    for (let i = 0; i < 20; i++) await rt.create({ image: IMAGE })
    const resumed = rt.events({ since: e?.cursor ?? '' })[Symbol.asyncIterator]()
    await expect(resumed.next()).rejects.toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'events-truncated' }))
    await expect(rt.events({ since: 'nonsense' })[Symbol.asyncIterator]().next()).rejects.toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'since' }))
  })
})
