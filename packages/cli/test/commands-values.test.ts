import { describe, expect, it } from 'vitest'
import { parseMount, parsePublish } from '../src/commands/service-refs.ts'
import { envEntries } from '../src/commands/service-spec.ts'
import { parseBytes, parseCpus, parseCsvOptions, parseDuration, parseInteger, parseKeyValue } from '../src/commands/values.ts'
import { clarifyUnavailable, errorLine, exitCodeOf, UsageError } from '../src/output/errors.ts'
import { formatJson } from '../src/output/json.ts'
import { formatTable } from '../src/output/table.ts'
import { humanDuration } from '../src/output/time.ts'
import { InvalidArgumentError, NotFoundError, UnavailableError } from '@swarmkit-ts/api'

describe('flag values', () => {
  it('reads Go durations, sizes and CPUs as Docker does', () => {
    expect([parseDuration('--d', '0'), parseDuration('--d', '500ms'), parseDuration('--d', '10s'), parseDuration('--d', '1m30s'), parseDuration('--d', '1h'), parseDuration('--d', '1.5s')]).toEqual([0, 500, 10_000, 90_000, 3_600_000, 1500])
    expect(() => parseDuration('--update-delay', '10')).toThrow('--update-delay: must be a duration such as 10s, 1m30s or 500ms, got "10"')
    expect([parseBytes('--m', '1024'), parseBytes('--m', '512k'), parseBytes('--m', '64m'), parseBytes('--m', '1g'), parseBytes('--m', '1.5GB')]).toEqual([1024, 524_288, 67_108_864, 1_073_741_824, 1_610_612_736])
    expect(() => parseBytes('--limit-memory', 'lots')).toThrow('--limit-memory: must be a size such as 512m or 1g, got "lots"')
    expect([parseCpus('--c', '0.5'), parseCpus('--c', '2')]).toEqual([500_000_000, 2_000_000_000])
    expect(() => parseInteger('--replicas', '-1')).toThrow('--replicas: must be a non-negative integer, got "-1"')
    expect(parseKeyValue('--env', 'A=b=c')).toEqual(['A', 'b=c'])
    expect(envEntries('--env', ['A=1', 'HOME', 'UNSET', 'B='], { HOME: '/root' })).toEqual(['A=1', 'HOME=/root', 'B='])
    expect(() => envEntries('--env', ['=x'], {})).toThrow('--env: must be key=value, got "=x"')
    expect(parseKeyValue('--label', 'flag')).toEqual(['flag', ''])
    expect([...parseCsvOptions('--mount', 'Type=bind,src=/a,ro').entries()]).toEqual([
      ['type', 'bind'],
      ['src', '/a'],
      ['ro', ''],
    ])
  })

  it('reads --publish in the short and the long form, and --mount', () => {
    expect(parsePublish('-p', '8080:80')).toEqual({ targetPort: 80, publishedPort: 8080, protocol: 'tcp', publishMode: 'ingress' })
    expect(parsePublish('-p', '53:53/udp')).toEqual({ targetPort: 53, publishedPort: 53, protocol: 'udp', publishMode: 'ingress' })
    expect(parsePublish('-p', '80')).toEqual({ targetPort: 80, protocol: 'tcp', publishMode: 'ingress' })
    expect(parsePublish('-p', 'published=8080,target=80,mode=host')).toEqual({ targetPort: 80, publishedPort: 8080, protocol: 'tcp', publishMode: 'host' })
    expect(() => parsePublish('--publish', '8080:99999')).toThrow('--publish: port must be 1–65535, got 99999')
    expect(() => parsePublish('--publish', 'published=1,color=red,target=2')).toThrow('--publish: unknown field color in "published=1,color=red,target=2"')
    expect(parseMount('--mount', 'type=tmpfs,dst=/run')).toEqual({ type: 'tmpfs', target: '/run' })
    expect(parseMount('--mount', 'source=data,target=/data,readonly=false')).toEqual({ type: 'volume', source: 'data', target: '/data' })
    expect(() => parseMount('--mount', 'type=bind,source=/a')).toThrow('--mount: needs target=<path> in "type=bind,source=/a"')
    expect(() => parseMount('--mount', 'type=disk,target=/a')).toThrow('--mount: must be one of bind, volume, tmpfs, npipe, cluster, got "disk"')
  })
})

describe('output', () => {
  it('prints errors as one line, usage errors exiting 2', () => {
    expect(errorLine(new NotFoundError('service', 'web'))).toBe('swarmkit: NotFoundError: service web not found')
    expect(errorLine(new Error('first\nsecond'))).toBe('swarmkit: Error: first')
    expect(errorLine(new UsageError('', "unknown command 'x'"))).toBe("swarmkit: UsageError: unknown command 'x'")
    expect([exitCodeOf(new NotFoundError('service', 'web')), exitCodeOf(new InvalidArgumentError('--replicas', 'bad')), exitCodeOf(new InvalidArgumentError('spec.name', 'bad')), exitCodeOf(new UsageError('', 'x'))]).toEqual([1, 2, 1, 2])
  })

  it('says plainly which manager could not be reached', () => {
    const grpc = new UnavailableError('No connection established. Last error: Error: connect ECONNREFUSED /m1/control.sock. Resolution note: ')
    expect(errorLine(clarifyUnavailable(grpc, 'unix:///m1/control.sock'))).toBe(
      'swarmkit: UnavailableError: cannot reach the manager at unix:///m1/control.sock: connect ECONNREFUSED /m1/control.sock (is it running?)',
    )
    const leaderless = new UnavailableError('not the leader; leader unknown')
    expect(clarifyUnavailable(leaderless, 'unix:///m1/control.sock')).toBe(leaderless)
    expect(clarifyUnavailable(grpc, undefined)).toBe(grpc)
  })

  it("writes Docker's borderless tables, JSON with bigints and bytes, and human durations", () => {
    expect(formatTable(['ID', 'NAME'], [['abc', 'web'], ['defghi', '']])).toBe('ID       NAME\nabc      web\ndefghi\n')
    expect(formatJson([{ v: 12n, b: new Uint8Array([104, 105]) }])).toBe('[\n  {\n    "v": "12",\n    "b": "aGk="\n  }\n]\n')
    expect([0, 1000, 5000, 60_000, 150_000, 3_600_000, 7_200_000, 3 * 86_400_000].map(humanDuration)).toEqual([
      'Less than a second',
      '1 second',
      '5 seconds',
      'About a minute',
      '2 minutes',
      'About an hour',
      '2 hours',
      '3 days',
    ])
  })
})
