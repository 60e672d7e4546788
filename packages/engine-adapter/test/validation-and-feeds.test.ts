import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EventJournal, LogBuffer, validateRuntimeContainerSpec, type RuntimeContainerSpec, type RuntimeCapabilities, type RuntimeEvent, type UncursoredEvent } from '../src/index.ts'

const ALL: RuntimeCapabilities = { memoryLimit: true, cpuLimit: true, healthcheck: true, ports: true }
const NONE: RuntimeCapabilities = { memoryLimit: false, cpuLimit: false, healthcheck: false, ports: false }

describe('validateRuntimeContainerSpec', () => {
  const ok: RuntimeContainerSpec = {
    image: 'img',
    name: 'web.1_a-b',
    command: ['sh'],
    env: { A: '', B: 'x=y' },
    workingDir: '/w',
    files: [{ target: '/run/s', data: 'x', mode: 0o400, uid: 0, gid: 0 }],
    resources: { memoryBytes: 1 << 20, nanoCpus: 1e9 },
    ports: [{ target: 80 }, { target: 80, protocol: 'udp', published: 8080 }],
    healthcheck: { test: ['CMD-SHELL', 'true'], intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
  }

  it('accepts a full valid spec', () => {
    expect(() => validateRuntimeContainerSpec(ok, ALL)).not.toThrow()
  })

  const cases: [string, Partial<RuntimeContainerSpec>, RuntimeCapabilities?][] = [
    ['image', { image: ' ' }],
    ['name', { name: '-x' }],
    ['command', { command: [] }],
    ['env.', { env: { '': 'x' } }],
    ['env.A', { env: { A: 'a\0b' } }],
    ['workingDir', { workingDir: 'w' }],
    ['files[0].target', { files: [{ target: '/a/../b', data: '' }] }],
    ['files[0].target', { files: [{ target: '/dir/', data: '' }] }],
    ['files[1].target', { files: [{ target: '/a', data: '' }, { target: '/a', data: '' }] }],
    ['files[0].mode', { files: [{ target: '/a', data: '', mode: 1.5 }] }],
    ['files[0].uid', { files: [{ target: '/a', data: '', uid: -1 }] }],
    ['resources.memoryBytes', { resources: { memoryBytes: 0 } }],
    ['resources.nanoCpus', { resources: { nanoCpus: 0.5 } }],
    ['resources.memoryBytes', { resources: { memoryBytes: 1 } }, NONE],
    ['resources.nanoCpus', { resources: { nanoCpus: 1 } }, NONE],
    ['ports', { ports: [{ target: 80 }] }, NONE],
    ['ports[0].target', { ports: [{ target: 0 }] }],
    ['ports[0].published', { ports: [{ target: 1, published: 65536 }] }],
    ['ports[1].target', { ports: [{ target: 1 }, { target: 1, protocol: 'tcp' }] }],
    ['healthcheck', { healthcheck: { test: ['CMD', 'true'] } }, NONE],
    ['healthcheck.test', { healthcheck: { test: ['CMD-SHELL', 'a', 'b'] } }],
    ['healthcheck.test', { healthcheck: { test: ['CMD'] } }],
    ['healthcheck.intervalMs', { healthcheck: { test: ['CMD', 'x'], intervalMs: 0 } }],
    ['healthcheck.retries', { healthcheck: { test: ['CMD', 'x'], retries: 0 } }],
    ['healthcheck.startPeriodMs', { healthcheck: { test: ['CMD', 'x'], startPeriodMs: -1 } }],
  ]
  it.each(cases)('rejects a bad %s', (field, patch, caps = ALL) => {
    const spec: RuntimeContainerSpec = { image: 'img', ...patch }
    expect(() => validateRuntimeContainerSpec(spec, caps)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
  })
})

describe('EventJournal', () => {
  const event = (n: number): UncursoredEvent => ({ type: 'create', id: `c${n}`, labels: { n: String(n % 3) }, time: n })

  async function drain(it: AsyncIterable<RuntimeEvent>, ac: AbortController, count: number): Promise<RuntimeEvent[]> {
    const out: RuntimeEvent[] = []
    if (count === 0) return out
    for await (const e of it) {
      out.push(e)
      if (out.length === count) ac.abort()
    }
    return out
  }

  it('resuming from any delivered cursor yields exactly the later events (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 80 }), fc.nat(), async (capacity, total, pick) => {
        const j = new EventJournal({ capacity, instance: 'i1' })
        const appended = Array.from({ length: total }, (_, n) => j.append(event(n)))
        const cut = pick % total
        const from = appended[cut]
        if (from === undefined) return
        const ac = new AbortController()
        const expected = appended.slice(cut + 1)
        // Sequence numbers start at 1: the next one wanted is cut + 2; the oldest kept is total - capacity + 1.
        const truncated = cut + 2 <= total && cut + 2 < total - capacity + 1
        const it = j.subscribe({ since: from.cursor, signal: ac.signal })
        if (truncated) {
          await expect(drain(it, ac, expected.length)).rejects.toThrow(expect.objectContaining({ reason: 'events-truncated' }))
          return
        }
        const got = await drain(it, ac, expected.length)
        expect(got.map((e) => e.id)).toEqual(expected.map((e) => e.id))
      }),
      { numRuns: 200 },
    )
  })

  it('a subscription starts at the call, filters by labels and sees later appends', async () => {
    const j = new EventJournal()
    j.append(event(0))
    const ac = new AbortController()
    const sub = drain(j.subscribe({ labels: { n: '1' }, signal: ac.signal }), ac, 2)
    for (let n = 1; n <= 6; n++) j.append(event(n))
    expect((await sub).map((e) => e.id)).toEqual(['c1', 'c4'])
    expect(j.lastSeq).toBe(7)
  })

  it('cursors sort as strings in append order', () => {
    const j = new EventJournal()
    const cursors = Array.from({ length: 12 }, (_, n) => j.append(event(n)).cursor)
    expect([...cursors].sort()).toEqual(cursors)
    expect(cursors[11]).toBe('0000000000000012')
  })
})

describe('LogBuffer', () => {
  it('splits chunks into lines per stream, flushes the last partial line on close, follows until closed', async () => {
    let now = 100
    const b = new LogBuffer(() => now)
    const followed: string[] = []
    const follow = (async () => {
      for await (const l of b.read({ follow: true })) followed.push(`${l.stream}:${l.line}@${l.time}`)
    })()
    b.write('stdout', 'a\nb')
    b.write('stderr', 'x\n')
    now = 200
    b.write('stdout', 'c\n\nd')
    b.close()
    b.write('stdout', 'ignored\n')
    await follow
    expect(followed).toEqual(['stdout:a@100', 'stderr:x@100', 'stdout:bc@200', 'stdout:@200', 'stdout:d@200'])
    const tail: string[] = []
    for await (const l of b.read({ tail: 2, since: 150 })) tail.push(l.line)
    expect(tail).toEqual(['', 'd'])
  })
})
