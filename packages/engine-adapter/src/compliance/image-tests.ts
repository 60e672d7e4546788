import { describe, expect, it } from 'vitest'
import type { Harness } from './harness.ts'

/** References that break Docker's reference grammar, each for a different rule. */
export const MALFORMED_IMAGE_REFERENCES: readonly string[] = [
  'UPPER/Case:tag', // capitals in the path
  '::bad', // no name
  'a//b', // empty path component
  '-a', // a component must start with a letter or digit
  'a:', // empty tag
  `a:${'t'.repeat(129)}`, // tag longer than 128
  'a b', // whitespace
  'a@sha256:0123', // digest too short
]

/**
 * Well-formed references (a registry with a port, a digest, every separator) of images no test
 * engine has.
 */
export const ABSENT_IMAGE_REFERENCES: readonly string[] = [
  'localhost:5000/swarmkit-ts/absent:tag',
  `swarmkit-ts.invalid/library/absent@sha256:${'0123456789abcdef'.repeat(4)}`,
  'swarmkit-ts-absent_a__b-c--d.e:1.0',
]

/** Image references: malformed ones refused as invalid arguments, well-formed absent ones as not found. */
export function imageTests(h: Harness): void {
  const t = h.timeout
  describe('image references', () => {
    it('create refuses a malformed reference with InvalidArgumentError naming image', async () => {
      for (const image of MALFORMED_IMAGE_REFERENCES) {
        await expect(h.runtime.create({ ...h.spec({ command: ['true'] }), image }), image).rejects.toThrow(
          expect.objectContaining({ name: 'InvalidArgumentError', field: 'image' }),
        )
      }
      expect(await h.runtime.list({ labels: h.labels() })).toEqual([])
    }, t)

    it('pullImage refuses a malformed reference with InvalidArgumentError naming image', async () => {
      for (const ref of MALFORMED_IMAGE_REFERENCES) {
        await expect(h.runtime.pullImage(ref), ref).rejects.toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'image' }))
      }
    }, t)

    it('create of a well-formed reference that is not present rejects with ImageNotFoundError', async () => {
      for (const ref of ABSENT_IMAGE_REFERENCES) {
        await expect(h.runtime.create({ ...h.spec({ command: ['true'] }), image: ref }), ref).rejects.toThrow(
          expect.objectContaining({ name: 'ImageNotFoundError', ref }),
        )
      }
      expect(await h.runtime.list({ labels: h.labels() })).toEqual([])
    }, t)
  })
}
