import { PassThrough } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DockerLogDecoder } from '../src/docker-logs.ts'
import { consumePullStream, readPullLine } from '../src/docker-pull.ts'
import { DockerDemuxer, NdjsonSplitter, dockerTime, nanosToSince, parseTimestampedLine } from '../src/docker-wire.ts'

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text)
  const head = Buffer.alloc(8)
  head[0] = stream
  head.writeUInt32BE(body.length, 4)
  return Buffer.concat([head, body])
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
