import { arbImage } from '@swarmkit-ts/testkit'
import fc from 'fast-check'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ContainerdRuntime } from '../src/containerd/containerd-runtime.ts'
import { DockerRuntime } from '../src/docker/docker-runtime.ts'
import type { ContainerRuntime } from '../src/runtime.ts'
import { IMAGE_NAME_MAX_LENGTH, isImageReference, parseImageReference, type ImageReference } from '../src/shared/image-reference.ts'

const HEX64 = '0123456789abcdef'.repeat(4)

const joined = (r: ImageReference): string =>
  `${r.domain === undefined ? '' : `${r.domain}/`}${r.path}${r.tag === undefined ? '' : `:${r.tag}`}${r.digest === undefined ? '' : `@${r.digest}`}`

const invalid = (field = 'image'): unknown => expect.objectContaining({ name: 'InvalidArgumentError', field })

describe('parseImageReference', () => {
  it.each([
    ['busybox', { domain: undefined, path: 'busybox', tag: undefined, digest: undefined }],
    ['busybox:1.36', { domain: undefined, path: 'busybox', tag: '1.36', digest: undefined }],
    ['localhost:5000/a/b:tag', { domain: 'localhost:5000', path: 'a/b', tag: 'tag', digest: undefined }],
    [`docker.io/library/busybox@sha256:${HEX64}`, { domain: 'docker.io', path: 'library/busybox', tag: undefined, digest: `sha256:${HEX64}` }],
    ['a_b__c-d', { domain: undefined, path: 'a_b__c-d', tag: undefined, digest: undefined }],
    ['a---b.c_d', { domain: undefined, path: 'a---b.c_d', tag: undefined, digest: undefined }],
    ['library/busybox:latest', { domain: undefined, path: 'library/busybox', tag: 'latest', digest: undefined }],
    ['localhost/app', { domain: 'localhost', path: 'app', tag: undefined, digest: undefined }],
    ['Example.com/app', { domain: 'Example.com', path: 'app', tag: undefined, digest: undefined }],
    ['Registry/app', { domain: 'Registry', path: 'app', tag: undefined, digest: undefined }],
    ['[::1]:5000/app:v1', { domain: '[::1]:5000', path: 'app', tag: 'v1', digest: undefined }],
    [`app:v1@sha256:${HEX64}`, { domain: undefined, path: 'app', tag: 'v1', digest: `sha256:${HEX64}` }],
    [`app@sha512:${'ab'.repeat(64)}`, { domain: undefined, path: 'app', tag: undefined, digest: `sha512:${'ab'.repeat(64)}` }],
    [`app:_${'x'.repeat(127)}`, { domain: undefined, path: 'app', tag: `_${'x'.repeat(127)}`, digest: undefined }],
  ])('accepts %s', (ref, parts) => {
    expect(parseImageReference(ref)).toEqual(parts)
    expect(isImageReference(ref)).toBe(true)
  })

  it.each([
    ['UPPER/Case:tag', 'repository name must be lowercase'],
    ['Busybox', 'repository name must be lowercase'],
    ['::bad', 'invalid reference format'],
    ['a//b', 'invalid reference format'],
    ['-a', 'invalid reference format'],
    ['a-', 'invalid reference format'],
    ['a:', 'invalid reference format'],
    [`a:${'t'.repeat(129)}`, 'invalid reference format'],
    ['a:.tag', 'invalid reference format'],
    ['a___b', 'invalid reference format'],
    ['a/', 'invalid reference format'],
    ['/a', 'invalid reference format'],
    ['a b', 'invalid reference format'],
    ['a@sha256:abc', 'invalid reference format'],
    ['-host.com/a', 'invalid reference format'],
    [`a@sha256:${HEX64.toUpperCase()}`, 'a sha256 digest is 64 lowercase hex digits'],
    [`a@sha256:${HEX64}00`, 'a sha256 digest is 64 lowercase hex digits'],
    [`a@md5:${HEX64}`, 'unsupported digest algorithm "md5"'],
    ['', 'must be a non-empty image reference'],
  ])('rejects %s with InvalidArgumentError (%s)', (ref, why) => {
    expect(() => parseImageReference(ref)).toThrow(invalid())
    expect(() => parseImageReference(ref)).toThrow(why)
    expect(isImageReference(ref)).toBe(false)
  })

  it('limits the name to 255 characters (domain and path together), not the tag', () => {
    const name = (n: number): string => `registry.example/${'a'.repeat(n - 'registry.example/'.length)}`
    expect(parseImageReference(`${name(IMAGE_NAME_MAX_LENGTH)}:${'t'.repeat(128)}`).path).toHaveLength(IMAGE_NAME_MAX_LENGTH - 'registry.example/'.length)
    expect(() => parseImageReference(name(IMAGE_NAME_MAX_LENGTH + 1))).toThrow('repository name must not be more than 255 characters (it has 256)')
  })

  it('names the field it is given', () => {
    expect(() => parseImageReference('::bad', 'images["::bad"]')).toThrow(invalid('images["::bad"]'))
  })

  it('refuses a very long input at once', () => {
    expect(() => parseImageReference(`${'a'.repeat(100_000)}!`)).toThrow('must not be more than 520 characters')
  })
})

const alnum = fc.stringMatching(/^[a-z0-9]{1,6}$/)
const separator = fc.constantFrom('.', '_', '__', '-', '--', '---')
const pathComponent = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 3 }))
  .map(([head, rest]) => head + rest.map(([s, a]) => s + a).join(''))
const domainComponent = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,6}[A-Za-z0-9])?$/)
const domain = fc.oneof(
  fc.tuple(domainComponent, domainComponent, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
    .map(([a, b, port]) => `${a}.${b}${port === undefined ? '' : `:${port}`}`),
  fc.integer({ min: 1, max: 65535 }).map((port) => `localhost:${port}`),
  fc.constant('localhost'),
)
const tag = fc.stringMatching(/^[\w][\w.-]{0,20}$/)
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`)
const reference = fc.record({
  domain: fc.option(domain, { nil: undefined }),
  path: fc.array(pathComponent, { minLength: 1, maxLength: 3 }).map((c) => c.join('/')),
  tag: fc.option(tag, { nil: undefined }),
  digest: fc.option(digest, { nil: undefined }),
})

describe('parseImageReference properties', () => {
  it('accepts every reference the grammar generates and splits it into the parts it was built from', () => {
    fc.assert(
      fc.property(reference, (parts) => {
        const ref = joined(parts)
        // Docker's rule: without a domain, a first path component with a "." names a registry.
        const [first = '', ...rest] = parts.path.split('/')
        const expected = parts.domain === undefined && rest.length > 0 && first.includes('.') ? { ...parts, domain: first, path: rest.join('/') } : parts
        expect(parseImageReference(ref)).toEqual(expected)
      }),
      { numRuns: 2000 },
    )
  })

  it("accepts every image testkit generates for api task specs (what the agent will hand to a runtime)", () => {
    fc.assert(
      fc.property(arbImage(), (image) => {
        expect(isImageReference(image)).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })

  it('any string is either refused with InvalidArgumentError naming image or split into parts that rebuild it', () => {
    const chars = fc.constantFrom(...'aZ09._-:/@ [ ]!'.split(''))
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: chars, maxLength: 30 }), reference.map(joined)), (ref) => {
        let parts: ImageReference
        try {
          parts = parseImageReference(ref)
        } catch (err) {
          expect(err).toEqual(invalid())
          return
        }
        expect(joined(parts)).toBe(ref)
        expect(parts.path).toBe(parts.path.toLowerCase())
      }),
      { numRuns: 3000 },
    )
  })

  it('a capital letter anywhere in the path makes a valid reference invalid', () => {
    fc.assert(
      fc.property(reference, fc.nat(), (parts, at) => {
        const letters = [...parts.path].flatMap((c, i) => (/[a-z]/.test(c) ? [i] : []))
        fc.pre(letters.length > 0)
        const i = letters[at % letters.length] ?? 0
        const path = parts.path.slice(0, i) + parts.path.charAt(i).toUpperCase() + parts.path.slice(i + 1)
        // With a single component and no domain, the capitalised first component would read as a domain.
        fc.pre(parts.domain !== undefined || !path.includes('/') || path.indexOf('/') < i)
        expect(() => parseImageReference(joined({ ...parts, path }))).toThrow(invalid())
      }),
      { numRuns: 1000 },
    )
  })
})

describe('runtimes check references before contacting their engine', () => {
  const dead = join(tmpdir(), `swarmkit-ts-no-engine-${process.pid}.sock`)
  const runtimes: [string, () => ContainerRuntime & { close(): Promise<void> }][] = [
    ['DockerRuntime', () => new DockerRuntime({ socketPath: dead, stateDir: join(tmpdir(), 'swarmkit-ts-no-engine-files') })],
    ['ContainerdRuntime', () => new ContainerdRuntime({ socketPath: dead, stateDir: join(tmpdir(), 'swarmkit-ts-no-engine-files') })],
  ]

  it.each(runtimes)('%s with a dead socket: InvalidArgumentError from create and pullImage, a connection error only for a well-formed reference', async (_, make) => {
    const rt = make()
    try {
      for (const image of ['UPPER/Case:tag', '::bad']) {
        await expect(rt.create({ image, command: ['true'] })).rejects.toThrow(invalid())
        await expect(rt.pullImage(image)).rejects.toThrow(invalid())
      }
      // The control: the engine really is unreachable.
      const err: unknown = await rt.pullImage('busybox:1.36').then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(Error)
      expect(err).not.toEqual(expect.objectContaining({ name: 'InvalidArgumentError' }))
      expect(err).not.toEqual(expect.objectContaining({ name: 'ImageNotFoundError' }))
    } finally {
      await rt.close()
    }
  }, 60_000)

  it('ContainerdRuntime.importImage checks the reference first', async () => {
    const rt = new ContainerdRuntime({ socketPath: dead })
    try {
      await expect(rt.importImage('Bad//ref', '/nonexistent.tar')).rejects.toThrow(invalid())
    } finally {
      await rt.close()
    }
  })
})
