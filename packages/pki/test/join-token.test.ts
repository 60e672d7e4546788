import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Random } from '@swarmkit-ts/api'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { generateJoinToken, joinTokenDigest, JoinTokens, parseJoinToken, RootCA, verifyRootCAForToken } from '../src/index.ts'

/** A Random whose bytes are fixed. */
function fixedBytes(bytes: number[]): Random {
  return { bytes: (n) => Uint8Array.from(bytes.slice(0, n)), int: () => 0, float: () => 0 }
}
const ABC_DIGEST = '4nb7oofka9ml8nasnokxxc1unhmtpr1wxsuwhpd9km3vt5as31'

describe('join tokens', () => {
  it('digest is SHA-256 of the PEM in base 36, padded to 50; secret is 16 bytes in base 36, padded to 25', () => {
    expect(joinTokenDigest('abc')).toBe(ABC_DIGEST)
    expect(generateJoinToken('abc', fixedBytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]))).toBe(`SWMTKN-1-${ABC_DIGEST}-025burfp0j7epb0hqfcuw340g`)
    expect(generateJoinToken('abc', fixedBytes(new Array<number>(16).fill(255)))).toBe(`SWMTKN-1-${ABC_DIGEST}-f5lxx1zz5pnorynqglhzmsp33`)
    expect(generateJoinToken('abc', fixedBytes(new Array<number>(16).fill(0)))).toBe(`SWMTKN-1-${ABC_DIGEST}-${'0'.repeat(25)}`)
  })

  it('parses what it generates, for any root and secret', () => {
    fc.assert(
      fc.property(fc.string(), fc.uint8Array({ minLength: 16, maxLength: 16 }), (pem, secret) => {
        const token = generateJoinToken(pem, fixedBytes([...secret]))
        expect(token).toHaveLength(9 + 50 + 1 + 25)
        const p = parseJoinToken(token)
        expect(p.digest).toBe(joinTokenDigest(pem))
        expect(BigInt(`0x${Buffer.from(secret).toString('hex')}`).toString(36).padStart(25, '0')).toBe(p.secret)
      }),
    )
  })

  it('digestHex is the root CA digest in hex', async () => {
    const ca = await RootCA.create()
    expect(parseJoinToken(generateJoinToken(ca.certPem)).digestHex).toBe(ca.digest)
  })

  it('refuses malformed tokens with InvalidArgumentError naming the field', () => {
    const good = generateJoinToken('abc', new SeededRandom(1))
    const bad = [
      42,
      '',
      'SWMTKN',
      good.replace('SWMTKN', 'SWMKEY'),
      good.replace('SWMTKN-1-', 'SWMTKN-2-'),
      good.replace('SWMTKN-1-', 'SWMTKN-1-x-'),
      good.slice(0, -1),
      good + '0',
      good.replace(ABC_DIGEST, ABC_DIGEST.toUpperCase()),
      `SWMTKN-1-${'z'.repeat(50)}-${'0'.repeat(25)}`, // > 2^256
    ]
    for (const t of bad) expect(() => parseJoinToken(t, 'spec.token')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'spec.token' }))
  })

  it('a joining node refuses a root CA whose digest does not match, before sending the secret', async () => {
    const ca = await RootCA.create()
    const impostor = await RootCA.create()
    const token = generateJoinToken(ca.certPem)
    expect(() => verifyRootCAForToken(token, ca.certPem)).not.toThrow()
    expect(() => verifyRootCAForToken(token, impostor.certPem)).toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
    expect(() => verifyRootCAForToken('junk', ca.certPem)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'token' }))
  })
})

describe('JoinTokens', () => {
  it('one token per role; the secret decides the role', () => {
    const t = JoinTokens.generate('root', new SeededRandom(7))
    expect(t.worker).not.toBe(t.manager)
    expect(t.roleOf(t.worker)).toBe('worker')
    expect(t.roleOf(t.manager)).toBe('manager')
    expect(t.get('worker')).toBe(t.worker)
    expect(() => t.roleOf(generateJoinToken('root', new SeededRandom(8)))).toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
    expect(() => t.roleOf('SWMTKN-1-x')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'token' }))
  })

  it('is reproducible from a seed', () => {
    expect(JoinTokens.generate('root', new SeededRandom(3)).toJSON()).toEqual(JoinTokens.generate('root', new SeededRandom(3)).toJSON())
  })

  it('rotation invalidates the old token of that role only', () => {
    const r = new SeededRandom(11)
    const t = JoinTokens.generate('root', r)
    const t2 = t.rotate('worker', 'root', r)
    expect(t2.manager).toBe(t.manager)
    expect(t2.worker).not.toBe(t.worker)
    expect(() => t2.roleOf(t.worker)).toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
    expect(t2.roleOf(t2.worker)).toBe('worker')
    const t3 = t2.rotate('manager', 'root', r)
    expect(t3.worker).toBe(t2.worker)
    expect(() => t3.roleOf(t2.manager)).toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
  })

  it('a new root CA keeps the secrets and changes the digest', () => {
    const t = JoinTokens.generate('old-root', new SeededRandom(5))
    const n = t.forRootCA('new-root')
    expect(parseJoinToken(n.worker).secret).toBe(parseJoinToken(t.worker).secret)
    expect(parseJoinToken(n.manager).digest).toBe(joinTokenDigest('new-root'))
    expect(() => n.roleOf(t.worker)).toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
  })

  it('restores stored tokens after validating them', () => {
    const t = JoinTokens.generate('root', new SeededRandom(2))
    expect(JoinTokens.from(t.toJSON()).toJSON()).toEqual(t.toJSON())
    expect(() => JoinTokens.from({ worker: 'x', manager: t.manager })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'worker' }))
  })
})
