import { PassThrough } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DockerLogAssembler, DockerLogDecoder } from '../src/docker/docker-logs.ts'
import { consumePullStream, readPullLine } from '../src/docker/docker-pull.ts'
import { DockerDemuxer, NdjsonSplitter, dockerTime, nanosToSince, parseTimestampedLine, splitTimestamp, stampToSince } from '../src/docker/docker-wire.ts'

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text)
  const head = Buffer.alloc(8)
  head[0] = stream
  head.writeUInt32BE(body.length, 4)
  return Buffer.concat([head, body])
}

function frameBytes(stream: 1 | 2, body: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head[0] = stream
  head.writeUInt32BE(body.length, 4)
  return Buffer.concat([head, body])
}

const PARTIAL = 16 * 1024

/** The messages Docker's log copier makes of one line: 16 KiB pieces, the last ending with the newline, all with one stamp. */
function dockerMessages(stream: 1 | 2, stamp: string, line: Buffer, size = PARTIAL): Buffer[] {
  const whole = Buffer.concat([line, Buffer.from('\n')])
  const out: Buffer[] = []
  for (let off = 0; off < whole.length; off += size) {
    out.push(frameBytes(stream, Buffer.concat([Buffer.from(`${stamp} `), whole.subarray(off, Math.min(whole.length, off + size))])))
  }
  return out
}

function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let prev = 0
  for (const p of points) {
    out.push(buf.subarray(prev, p))
    prev = p
  }
  out.push(buf.subarray(prev))
  return out
}

describe('DockerDemuxer', () => {
  it('splits stdout and stderr frames', () => {
    const d = new DockerDemuxer()
    const out = d.push(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'more')]))
    expect(out.map((c) => [c.stream, c.data.toString()])).toEqual([['stdout', 'out\n'], ['stderr', 'err\n'], ['stdout', 'more']])
    expect(d.pending).toBe(0)
  })

  it('gives the same frames however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom<1 | 2>(1, 2), fc.string({ maxLength: 40 })), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, cuts) => {
          const all = Buffer.concat(frames.map(([s, t]) => frame(s, t)))
          const d = new DockerDemuxer()
          const got = chunked(all, cuts).flatMap((c) => d.push(c))
          const byStream = (s: 'stdout' | 'stderr'): string => got.filter((c) => c.stream === s).map((c) => c.data.toString()).join('')
          expect(byStream('stdout')).toBe(frames.filter(([s]) => s === 1).map(([, t]) => t).join(''))
          expect(byStream('stderr')).toBe(frames.filter(([s]) => s === 2).map(([, t]) => t).join(''))
          expect(d.pending).toBe(0)
        },
      ),
    )
  })

  it('passes a TTY stream (no valid header) through as stdout', () => {
    const d = new DockerDemuxer()
    expect(d.push(Buffer.from('hello tty\n')).map((c) => [c.stream, c.data.toString()])).toEqual([['stdout', 'hello tty\n']])
    expect(d.push(Buffer.from('more')).map((c) => c.data.toString())).toEqual(['more'])
  })
})

describe('DockerLogDecoder', () => {
  it('decodes a non-followed Buffer (still multiplexed) into timestamped lines, with a final unterminated line', () => {
    const dec = new DockerLogDecoder(undefined)
    const buf = Buffer.concat([
      frame(1, '2026-11-22T03:00:00.123456789Z a\n'),
      frame(2, '2026-11-22T03:00:01.5Z oops\n'),
      frame(1, '2026-11-22T03:00:02Z \n'),
      frame(1, '2026-11-22T03:00:03Z b'),
    ])
    const lines = [...dec.push(buf), ...dec.end()]
    expect(lines).toEqual([
      { stream: 'stdout', line: 'a', time: Date.parse('2026-11-22T03:00:00.123Z') },
      { stream: 'stderr', line: 'oops', time: Date.parse('2026-11-22T03:00:01.500Z') },
      { stream: 'stdout', line: '', time: Date.parse('2026-11-22T03:00:02Z') },
      { stream: 'stdout', line: 'b', time: Date.parse('2026-11-22T03:00:03Z') },
    ])
  })

  it('drops lines before since', () => {
    const dec = new DockerLogDecoder(Date.parse('2026-11-22T03:00:01Z'))
    const lines = dec.push(Buffer.concat([frame(1, '2026-11-22T03:00:00Z old\n'), frame(1, '2026-11-22T03:00:01Z new\n')]))
    expect(lines.map((l) => l.line)).toEqual(['new'])
  })
})

describe('DockerLogAssembler (partial messages of long lines)', () => {
  const stamp = (n: number): string => `2026-11-22T03:00:${String(n).padStart(2, '0')}.123456789Z`
  const block = (c: string, n: number): string => c.repeat(n)

  it('joins the 16 KiB messages of a 1 MiB line, and of lines of exactly 16 KiB and 16 KiB + 1, into the original lines', () => {
    const mib = Array.from({ length: 64 }, (_, i) => String.fromCharCode(65 + (i % 26)) + block('x', PARTIAL - 1)).join('')
    const lines = [mib, block('y', PARTIAL), block('z', PARTIAL + 1), block('w', PARTIAL - 1), 'short']
    const messages = lines.flatMap((l, i) => dockerMessages(1, stamp(i), Buffer.from(l)))
    // 1 MiB + newline: 64 full messages and one holding the newline; exactly 16 KiB: one full and one empty.
    expect(messages.length).toBe(65 + 2 + 2 + 1 + 1)
    const a = new DockerLogAssembler()
    const out = a.push(Buffer.concat(messages))
    expect(out.map((l) => l.log.line)).toEqual(lines)
    expect(out.map((l) => l.log.time)).toEqual(lines.map((_, i) => Date.parse(`2026-11-22T03:00:${String(i).padStart(2, '0')}.123Z`)))
    expect(out.map((l) => l.stamp)).toEqual(lines.map((_, i) => stamp(i)))
    expect(a.messages).toBe(71)
    expect(a.end()).toEqual([])
  })

  it('keeps the streams apart when their partial messages interleave, and completes lines in the order they end', () => {
    const out1 = block('o', PARTIAL * 2 + 5)
    const err1 = block('e', PARTIAL + 7)
    const [o1, o2, o3] = dockerMessages(1, stamp(1), Buffer.from(out1))
    const [e1, e2] = dockerMessages(2, stamp(2), Buffer.from(err1))
    const a = new DockerLogAssembler()
    const got = [o1, e1, o2, e2, o3].flatMap((m) => a.push(m ?? Buffer.alloc(0)))
    expect(got.map((l) => [l.log.stream, l.log.line.length, l.log.line === (l.log.stream === 'stdout' ? out1 : err1)])).toEqual([
      ['stderr', PARTIAL + 7, true],
      ['stdout', PARTIAL * 2 + 5, true],
    ])
  })

  it('joins bytes, not strings: a UTF-8 character cut between two messages comes back whole', () => {
    const line = Buffer.from(`${block('a', PARTIAL - 1)}é${block('b', 10)}`)
    const a = new DockerLogAssembler()
    expect(a.push(Buffer.concat(dockerMessages(1, stamp(0), line))).map((l) => l.log.line)).toEqual([line.toString('utf8')])
  })

  it('flags the first line of each stream (a tail window may cut it) and only that one', () => {
    const a = new DockerLogAssembler()
    const [, second] = dockerMessages(1, stamp(1), Buffer.from(block('x', PARTIAL + 3)))
    const got = a.push(Buffer.concat([second ?? Buffer.alloc(0), ...dockerMessages(1, stamp(2), Buffer.from('next')), ...dockerMessages(2, stamp(3), Buffer.from('err'))]))
    expect(got.map((l) => [l.log.line, l.opensStream])).toEqual([['xxx', true], ['next', false], ['err', true]])
  })

  it('keeps an unterminated last line open until end()', () => {
    const a = new DockerLogAssembler()
    const [first] = dockerMessages(1, stamp(4), Buffer.from(block('q', PARTIAL + 1)))
    expect(a.push(first ?? Buffer.alloc(0))).toEqual([])
    expect(a.end().map((l) => [l.log.stream, l.log.line.length, l.stamp])).toEqual([['stdout', PARTIAL, stamp(4)]])
  })

  it('gives back every line of both streams whatever their lengths, interleaving and byte chunking', () => {
    const size = 8
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom<1 | 2>(1, 2), fc.string({ maxLength: 30 }).map((s) => s.replace(/[\n\r]/g, '.'))), { maxLength: 12 }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (lines, picks, cuts) => {
          // Each stream's messages stay in order; the two streams interleave as `picks` says.
          const queues: Record<1 | 2, Buffer[]> = { 1: [], 2: [] }
          lines.forEach(([s, text], i) => queues[s].push(...dockerMessages(s, stamp(i % 60), Buffer.from(text), size)))
          const order: Buffer[] = []
          let p = 0
          while (queues[1].length + queues[2].length > 0) {
            const pick: 1 | 2 = queues[1].length === 0 ? 2 : queues[2].length === 0 ? 1 : picks[p++ % Math.max(1, picks.length)] === true ? 2 : 1
            order.push(queues[pick].shift() ?? Buffer.alloc(0))
          }
          const a = new DockerLogAssembler()
          const got = chunked(Buffer.concat(order), cuts).flatMap((c) => a.push(c))
          expect(a.end()).toEqual([])
          for (const [s, name] of [[1, 'stdout'], [2, 'stderr']] as const) {
            expect(got.filter((l) => l.log.stream === name).map((l) => l.log.line)).toEqual(lines.filter(([x]) => x === s).map(([, t]) => t))
          }
        },
      ),
    )
  })
})

describe('NDJSON and timestamps', () => {
  it('NdjsonSplitter reassembles lines split across chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), (objs, cuts) => {
        const text = Buffer.from(objs.map((o) => JSON.stringify(o)).join('\n') + '\n')
        const s = new NdjsonSplitter()
        const got = chunked(text, cuts).flatMap((c) => s.push(c)).map((l) => l.value)
        expect(got).toEqual(objs)
      }),
    )
  })

  it('parses Docker times and since values', () => {
    expect(parseTimestampedLine('2026-11-22T03:00:00.999999999Z x y')).toEqual({ time: Date.parse('2026-11-22T03:00:00.999Z'), text: 'x y' })
    expect(parseTimestampedLine('not a time')).toBe(undefined)
    expect(splitTimestamp(Buffer.from('2026-11-22T03:00:00.000000001Z a b'))).toEqual({
      stamp: '2026-11-22T03:00:00.000000001Z', time: Date.parse('2026-11-22T03:00:00Z'), text: Buffer.from('a b'),
    })
    expect(splitTimestamp(Buffer.from('plain text here'))).toBe(undefined)
    expect(stampToSince('2026-11-22T03:00:00.000000001Z')).toBe(`${Date.parse('2026-11-22T03:00:00Z') / 1000}.000000001`)
    expect(stampToSince('2026-11-22T03:00:00.5Z')).toBe(`${Date.parse('2026-11-22T03:00:00Z') / 1000}.500000000`)
    expect(stampToSince('2026-11-22T03:00:00Z')).toBe(`${Date.parse('2026-11-22T03:00:00Z') / 1000}.000000000`)
    expect(nanosToSince('1795317836409123456')).toBe('1795317836.409123456')
    expect(nanosToSince('1000000005')).toBe('1.000000005')
    expect(dockerTime('0001-01-01T00:00:00Z')).toBe(undefined)
    expect(dockerTime('2026-11-22T03:00:00Z')).toBe(Date.parse('2026-11-22T03:00:00Z'))
  })
})

describe('pull progress', () => {
  it('reads progress lines and in-band errors', () => {
    expect(readPullLine({ status: 'Downloading', id: 'abc', progressDetail: { current: 5, total: 10 } })).toEqual({
      progress: { status: 'Downloading', item: 'abc', current: 5, total: 10 },
    })
    expect(readPullLine({ error: 'x', errorDetail: { message: 'manifest unknown' } })).toEqual({ error: 'manifest unknown' })
  })

  it('rejects a 200 stream that carries an error line, after reporting the progress before it', async () => {
    const stream = new PassThrough()
    const seen: string[] = []
    const done = consumePullStream(stream, 'example/app:1', { onProgress: (p) => seen.push(p.status) })
    stream.write('{"status":"Pulling from example/app"}\n{"status":"Downl')
    stream.write('oading","progressDetail":{"current":1}}\n')
    stream.end('{"errorDetail":{"message":"unexpected EOF"},"error":"unexpected EOF"}\n')
    await expect(done).rejects.toThrow(expect.objectContaining({ name: 'ImageNotFoundError', ref: 'example/app:1' }))
    expect(seen).toEqual(['Pulling from example/app', 'Downloading'])
  })

  it('resolves a stream that ends without an error line', async () => {
    const stream = new PassThrough()
    const done = consumePullStream(stream, 'example/app:1', {})
    stream.end('{"status":"Status: Downloaded newer image for example/app:1"}\n')
    await expect(done).resolves.toBe(undefined)
  })
})
