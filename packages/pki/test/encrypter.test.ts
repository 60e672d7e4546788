import fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { GrpcStatus } from '@swarmkit-ts/api'
import { SeededRandom } from '@swarmkit-ts/testkit'
import type { Encrypter } from '../../raft/src/index.ts'
import { AesGcmEncrypter, DataKeyRing, generateDataKey } from '../src/index.ts'

const aad = new TextEncoder().encode('record-type=1')

describe('AesGcmEncrypter', () => {
  it('is assignable to the raft Encrypter contract', () => {
    expectTypeOf<AesGcmEncrypter>().toExtend<Encrypter>()
    const e: Encrypter = new AesGcmEncrypter(generateDataKey(new SeededRandom(1)))
    expect(e.keyId).toHaveLength(16)
  })

  it('round-trips any plaintext and aad, and hides the plaintext', () => {
    const enc = new AesGcmEncrypter(generateDataKey())
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 64 }), (plain, a) => {
        const sealed = enc.encrypt(plain, a)
        expect(sealed.length).toBe(plain.length + 1 + 12 + 16)
        expect(sealed[0]).toBe(1)
        expect(enc.decrypt(sealed, a)).toEqual(plain)
      }),
    )
  })

  it('a sealed record contains none of a known plaintext', () => {
    const enc = new AesGcmEncrypter(generateDataKey())
    const secret = Buffer.from('top-secret-password-'.repeat(20))
    const sealed = Buffer.from(enc.encrypt(secret, aad))
    for (let i = 0; i + 8 <= secret.length; i += 8) expect(sealed.includes(secret.subarray(i, i + 8))).toBe(false)
  })

  it('never reuses an IV', () => {
    const enc = new AesGcmEncrypter(generateDataKey())
    const ivs = new Set<string>()
    for (let i = 0; i < 1000; i++) ivs.add(Buffer.from(enc.encrypt(new Uint8Array(0), aad).subarray(1, 13)).toString('hex'))
    expect(ivs.size).toBe(1000)
  })

  it('any flipped bit, a wrong aad, a wrong key or truncation fails authentication', () => {
    const key = generateDataKey()
    const enc = new AesGcmEncrypter(key)
    const sealed = enc.encrypt(new TextEncoder().encode('hello raft'), aad)
    fc.assert(
      fc.property(fc.nat({ max: sealed.length * 8 - 1 }), (bit) => {
        const bad = Uint8Array.from(sealed)
        bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7))
        expect(() => enc.decrypt(bad, aad)).toThrow(expect.objectContaining({ name: 'DecryptionError' }))
      }),
    )
    expect(() => enc.decrypt(sealed, new TextEncoder().encode('record-type=2'))).toThrow(expect.objectContaining({ name: 'DecryptionError' }))
    expect(() => new AesGcmEncrypter({ id: key.id, key: generateDataKey().key }).decrypt(sealed, aad)).toThrow(
      expect.objectContaining({ name: 'DecryptionError', code: GrpcStatus.FAILED_PRECONDITION, keyId: key.id }),
    )
    expect(() => enc.decrypt(sealed.subarray(0, 20), aad)).toThrow(expect.objectContaining({ name: 'DecryptionError', message: 'sealed data is too short' }))
  })

  it('validates its key', () => {
    expect(() => new AesGcmEncrypter({ id: 'k', key: new Uint8Array(16) })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'key.key' }))
    expect(() => new AesGcmEncrypter({ id: '', key: new Uint8Array(32) })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'key.id' }))
  })

  it('generateDataKey is reproducible from a seed', () => {
    expect(generateDataKey(new SeededRandom(9))).toEqual(generateDataKey(new SeededRandom(9)))
    expect(generateDataKey(new SeededRandom(9)).key).toHaveLength(32)
  })
})

describe('DataKeyRing', () => {
  it('seals with the newest key and opens with any key it holds', () => {
    const r = new SeededRandom(4)
    const old = generateDataKey(r)
    const next = generateDataKey(r)
    const sealedOld = new AesGcmEncrypter(old).encrypt(Buffer.from('a'), aad)
    const ring = new DataKeyRing([next, old])
    expect(ring.current.keyId).toBe(next.id)
    expect(ring.keyIds).toEqual([next.id, old.id])
    expect(Buffer.from(ring.get(old.id)?.decrypt(sealedOld, aad) ?? []).toString()).toBe('a')
    expect(ring.get('nope')).toBeUndefined()
    expect(() => new DataKeyRing([])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'keys' }))
    expect(() => new DataKeyRing([old, old])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'keys.1.id' }))
  })
})
