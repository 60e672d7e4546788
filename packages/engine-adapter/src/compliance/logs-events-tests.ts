import { describe, expect, it } from 'vitest'
import type { LogLine } from '../runtime.ts'
import { eventTrail, type Harness } from './harness.ts'

const BLOCK_LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-']

/** Busybox `sh` (and the fake shell) building lines of 16 KiB - 1, 16 KiB, 16 KiB + 1 and 1 MiB without a pipe. */
const LONG_LINES_SCRIPT = [
  // b: 16,383 characters (1 + 2 + … + 8,192); m: 64 blocks of a letter and b, 1 MiB.
  'x=x; b=""; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do b="$b$x"; x="$x$x"; done',
  `m=""; for c in ${BLOCK_LETTERS.join(' ')}; do m="$m$c$b"; done`,
  'echo "a$b"; echo "ab$b"; echo "$b"',
  'sleep 1',
  'echo "e$b" >&2; echo "E$m" >&2',
  'sleep 1',
  'echo "$m"; echo end',
].join('\n')

/** The lines {@link LONG_LINES_SCRIPT} writes, in order. */
const LONG_LINES: readonly (readonly ['stdout' | 'stderr', string])[] = (() => {
  const b = 'x'.repeat(16_383)
  const m = BLOCK_LETTERS.map((c) => c + b).join('')
  return [['stdout', `a${b}`], ['stdout', `ab${b}`], ['stdout', b], ['stderr', `e${b}`], ['stderr', `E${m}`], ['stdout', m], ['stdout', 'end']] as const
})()

/** Logs (streams told apart, tail, follow, since) and events (order, resume, concurrency). */
export function logsEventsTests(h: Harness): void {
  const t = h.timeout
  describe('logs', () => {
    it('tells stdout and stderr apart, each in order', async () => {
      const { id } = await h.run(h.sh('echo out1; echo err1 >&2; echo out2; echo err2 >&2'))
      const lines = await h.logs(id)
      expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['out1', 'out2'])
      expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['err1', 'err2'])
      for (const l of lines) expect(typeof l.time).toBe('number')
    }, t)

    it('yields a final line without a newline, and empty lines', async () => {
      const { id } = await h.run(h.sh("printf 'a\\n\\nb'"))
      expect(await h.stdout(id)).toEqual(['a', '', 'b'])
    }, t)

    it('tail gives the last lines', async () => {
      const { id } = await h.run(h.spec({ command: ['seq', '1', '10'] }))
      expect((await h.logs(id, { tail: 3 })).map((l) => l.line)).toEqual(['8', '9', '10'])
      expect(await h.logs(id, { tail: 0 })).toEqual([])
      expect((await h.logs(id, { tail: 100 })).map((l) => l.line)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'])
    }, t)

    it('refuses a tail that is not a whole number ≥ 0 and a since that is not finite, naming the field', async () => {
      const { id } = await h.run(h.sh('echo one'))
      for (const [options, field] of [[{ tail: -1 }, 'tail'], [{ tail: 1.5 }, 'tail'], [{ since: Number.NaN }, 'since']] as const) {
        await expect(h.logs(id, options)).rejects.toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
      }
    }, t)

    it('since filters by time', async () => {
      const { id } = await h.run(h.sh('echo one; echo two'))
      const all = await h.logs(id)
      expect(all.map((l) => l.line)).toEqual(['one', 'two'])
      expect(await h.logs(id, { since: Math.max(...all.map((l) => l.time)) + 60_000 })).toEqual([])
      expect((await h.logs(id, { since: 0 })).map((l) => l.line)).toEqual(['one', 'two'])
    }, t)

    it('follow yields lines as they come and ends when the container exits', async () => {
      const id = await h.runtime.create(h.sh('echo a; sleep 0.2; echo b >&2; sleep 0.2; echo c; exit 5'))
      const followed: LogLine[] = []
      const done = (async () => {
        for await (const l of h.runtime.logs(id, { follow: true })) followed.push(l)
      })()
      await h.runtime.start(id)
      await done
      expect(followed.map((l) => `${l.stream}:${l.line}`)).toEqual(['stdout:a', 'stderr:b', 'stdout:c'])
      expect(await h.runtime.wait(id)).toBe(5)
    }, t)

    it('follow with tail 0 yields only new lines; aborting ends it quietly', async () => {
      const id = await h.runtime.create(h.sh("trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 0.1; done"))
      await h.runtime.start(id)
      await h.waitForLine(id, 'ready')
      const ac = new AbortController()
      const seen: string[] = []
      const done = (async () => {
        for await (const l of h.runtime.logs(id, { follow: true, tail: 0, signal: ac.signal })) {
          seen.push(l.line)
          if (l.line === 'bye') ac.abort()
        }
      })()
      // Give runtimes that open the stream at the first next() (an HTTP request) time to do so.
      await new Promise((r) => setTimeout(r, 500))
      await h.runtime.stop(id)
      await done
      expect(seen).toEqual(['bye'])
      const ac2 = new AbortController()
      const id2 = await h.runLoop()
      const lines: string[] = []
      for await (const l of h.runtime.logs(id2, { follow: true, signal: ac2.signal })) {
        lines.push(l.line)
        ac2.abort()
      }
      expect(lines).toEqual(['ready'])
      expect((await h.runtime.inspect(id2)).state).toBe('running')
    }, t)

    it('gives long lines back whole (16 KiB, 16 KiB ± 1, 1 MiB, on both streams): after exit, followed, and tailed', async () => {
      const id = await h.runtime.create(h.sh(LONG_LINES_SCRIPT))
      const followed: LogLine[] = []
      const following = (async () => {
        for await (const l of h.runtime.logs(id, { follow: true })) followed.push(l)
      })()
      await h.runtime.start(id)
      expect(await h.runtime.wait(id)).toBe(0)
      await following
      const describeLines = (lines: readonly LogLine[]): string[] => lines.map((l) => `${l.stream}:${l.line.length}:${l.line.slice(0, 3)}`)
      const sameText = (lines: readonly LogLine[], expected: readonly (readonly [string, string])[]): boolean =>
        lines.length === expected.length && lines.every((l, i) => l.stream === expected[i]?.[0] && l.line === expected[i]?.[1])
      const perStream = (lines: readonly LogLine[]): LogLine[] => [...lines.filter((l) => l.stream === 'stdout'), ...lines.filter((l) => l.stream === 'stderr')]
      const expectedPerStream = [...LONG_LINES.filter(([s]) => s === 'stdout'), ...LONG_LINES.filter(([s]) => s === 'stderr')]
      const all = await h.logs(id)
      expect(describeLines(perStream(all))).toEqual(describeLines(expectedPerStream.map(([stream, line]) => ({ stream, line, time: 0 }))))
      expect(sameText(perStream(all), expectedPerStream)).toBe(true)
      expect(sameText(perStream(followed), expectedPerStream)).toBe(true)
      expect(sameText(perStream(await h.logs(id, { since: 0 })), expectedPerStream)).toBe(true)
      // Stdout and stderr lines are written a second apart, so their order across the streams is fixed.
      for (const n of [1, 2, 3, 4]) {
        const tailed = await h.logs(id, { tail: n })
        expect(describeLines(tailed)).toEqual(describeLines(LONG_LINES.slice(-n).map(([stream, line]) => ({ stream, line, time: 0 }))))
        expect(sameText(tailed, LONG_LINES.slice(-n))).toBe(true)
      }
    }, 2 * t)
  })

  describe('events', () => {
    it('create, start, die with the exit code, destroy — in order, once each', async () => {
      const sub = h.subscribe()
      const { id } = await h.run(h.sh('exit 5'))
      await h.runtime.remove(id)
      await sub.until((es) => es.some((e) => e.type === 'destroy' && e.id === id), 'destroy')
      const events = await sub.close()
      expect(eventTrail(events, id)).toEqual(['create', 'start', 'die:5', 'destroy'])
      for (const e of events) expect(e.labels).toEqual(h.labels())
      expect(new Set(events.map((e) => e.cursor)).size).toBe(events.length)
      for (const e of events) expect(typeof e.time).toBe('number')
    }, t)

    it('an event caused right after events() is called is delivered', async () => {
      const sub = h.subscribe()
      const id = await h.runtime.create(h.sh('true'))
      await sub.until((es) => es.length >= 1, 'create')
      expect(eventTrail(await sub.close(), id)).toEqual(['create'])
    }, t)

    it('filters by labels', async () => {
      const sub = h.runtime.events({ labels: { ...h.labels(), role: 'x' }, signal: AbortSignal.timeout(60_000) })
      const other = await h.runtime.create(h.sh('true', { labels: { role: 'y' } }))
      const mine = await h.runtime.create(h.sh('true', { labels: { role: 'x' } }))
      for await (const e of sub) {
        expect(e.id).toBe(mine)
        expect(e.type).toBe('create')
        break
      }
      expect(other).not.toBe(mine)
    }, t)

    it('resumes after an interrupted stream with since: nothing lost, nothing repeated', async () => {
      const first = h.subscribe()
      const { id: a } = await h.run(h.sh('exit 1'))
      const seen = await first.until((es) => es.some((e) => e.type === 'die' && e.id === a), 'die of a')
      await first.close()
      expect(eventTrail(seen, a)).toEqual(['create', 'start', 'die:1'])
      const last = seen[seen.length - 1]
      if (last === undefined) throw new Error('no events')
      // While nobody listens: a is removed, b runs.
      await h.runtime.remove(a)
      const { id: b } = await h.run(h.sh('exit 2'))
      const resumed = h.subscribe(last.cursor)
      const rest = await resumed.until((es) => es.some((e) => e.type === 'die' && e.id === b), 'die of b')
      await resumed.close()
      expect(rest.map((e) => `${e.id === a ? 'a' : e.id === b ? 'b' : e.id}:${e.type}`)).toEqual(['a:destroy', 'b:create', 'b:start', 'b:die'])
      const cursors = [...seen, ...rest].map((e) => e.cursor)
      expect(new Set(cursors).size).toBe(cursors.length)
    }, t)

    it('drives 20 containers concurrently without losing an event or an exit code', async () => {
      const sub = h.subscribe()
      const codes = Array.from({ length: 20 }, (_, i) => i + 1)
      const results = await Promise.all(codes.map((code) => h.run(h.sh(`sleep 0.1; exit ${code}`, { labels: { code: String(code) } }))))
      expect(results.map((r) => r.exitCode)).toEqual(codes)
      await Promise.all(results.map((r) => h.runtime.remove(r.id)))
      const events = await sub.until((es) => es.filter((e) => e.type === 'destroy').length === 20, '20 destroys')
      for (const [i, r] of results.entries()) expect(eventTrail(events, r.id)).toEqual(['create', 'start', `die:${i + 1}`, 'destroy'])
      expect(events.length).toBe(80)
      await sub.close()
    }, 2 * t)
  })
}
