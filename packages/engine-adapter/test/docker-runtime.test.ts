import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DockerRuntime } from '../src/docker/docker-runtime.ts'
import type { LogLine, LogsOptions, RuntimeEvent } from '../src/runtime.ts'
import { reportSkipped, startEngine, stopEngine, type EngineEnv } from './helpers/engines.ts'

const skipped = reportSkipped('docker')

async function collectAll<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

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

  describe('lines longer than Docker\'s 16 KiB log messages', () => {
    // b: 16,383 characters; m: 1 MiB (64 blocks of a letter and b), built without a pipe.
    const BUILD = [
      'x=x; b=""; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do b="$b$x"; x="$x$x"; done',
      'm=""; for c in A B C D E F G H I J K L M N O P Q R S T U V W X Y Z a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 + -; do m="$m$c$b"; done',
    ].join('\n')
    const LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-']
    const m = LETTERS.map((c) => c + 'x'.repeat(16_383)).join('')
    const show = (lines: readonly { stream: string; line: string }[]): string[] => lines.map((l) => `${l.stream}:${l.line.length}:${l.line.slice(0, 2)}`)
    const collect = async (id: string, options: LogsOptions = {}): Promise<LogLine[]> => {
      const out: LogLine[] = []
      for await (const l of rt.logs(id, options)) out.push(l)
      return out
    }

    it('keeps two 1 MiB lines written at the same time on stdout and stderr apart and whole, also from since', async () => {
      const id = await create(`${BUILD}\necho "$m" & echo "E$m" >&2; wait; echo end`)
      const followed: LogLine[] = []
      const following = (async () => {
        for await (const l of rt.logs(id, { follow: true })) followed.push(l)
      })()
      await rt.start(id)
      expect(await rt.wait(id)).toBe(0)
      await following
      for (const lines of [await collect(id), followed]) {
        const out = lines.filter((l) => l.stream === 'stdout')
        const err = lines.filter((l) => l.stream === 'stderr')
        expect(show(out)).toEqual([`stdout:${m.length}:Ax`, 'stdout:3:en'])
        expect(show(err)).toEqual([`stderr:${m.length + 1}:EA`])
        expect(out[0]?.line === m && err[0]?.line === `E${m}`).toBe(true)
      }
      const long = followed.find((l) => l.stream === 'stdout' && l.line.length > 3)
      if (long === undefined) throw new Error('no long line')
      const fromLong = await collect(id, { since: long.time })
      expect(fromLong.some((l) => l.stream === 'stdout' && l.line === m)).toBe(true)
      for (const l of fromLong) expect(l.line.length === 3 || l.line.length >= m.length).toBe(true)
    }, 60_000)

    it('does not return a long line still being written; a tailed follow yields it whole once it ends', async () => {
      // The line ends (and the container exits) only when the test stops it.
      const id = await create(`${BUILD}\ntrap 'echo " done"; echo last; exit 0' TERM\necho first; printf "%s" "$m"; echo marker >&2\nwhile true; do sleep 0.1; done`)
      await rt.start(id)
      // Follow until the marker: by then the 1 MiB without a newline went into the pipe (Docker logged it as partial messages).
      const ac = new AbortController()
      for await (const l of rt.logs(id, { follow: true, signal: ac.signal })) if (l.line === 'marker') ac.abort()
      expect((await rt.inspect(id)).state).toBe('running')
      expect(show(await collect(id))).toEqual(['stdout:5:fi', 'stderr:6:ma'])
      expect(show(await collect(id, { tail: 1 }))).toEqual(['stderr:6:ma'])
      // The follow reads its tail when it starts: take its first line before ending the long one.
      const follow = rt.logs(id, { follow: true, tail: 2 })[Symbol.asyncIterator]()
      const followed: LogLine[] = []
      const head = await follow.next()
      if (head.done === true) throw new Error('the follow ended at once')
      followed.push(head.value)
      await rt.stop(id)
      for (let next = await follow.next(); next.done !== true; next = await follow.next()) followed.push(next.value)
      expect(show(followed)).toEqual(['stdout:5:fi', 'stderr:6:ma', `stdout:${m.length + 5}:Ax`, 'stdout:4:la'])
      expect(followed[2]?.line === `${m} done`).toBe(true)
      expect(await rt.wait(id)).toBe(0)
      expect(show(await collect(id, { tail: 2 }))).toEqual([`stdout:${m.length + 5}:Ax`, 'stdout:4:la'])
    }, 60_000)
  })

  it('refuses a tail that is not a whole number ≥ 0 and a since that is not finite, naming the field', async () => {
    const id = await create('echo a')
    for (const [options, field] of [[{ tail: -1 }, 'tail'], [{ tail: 1.5 }, 'tail'], [{ since: Number.NaN }, 'since']] as const) {
      await expect(collectAll(rt.logs(id, options))).rejects.toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    }
  })

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
