import { X509Certificate } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Random } from '@swarmkit-ts/api'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { CertificateRenewer, createCsr, generateNodeKey, identityOf, renewalTime, RootCA, TlsMaterialSource, type Validity } from '../src/index.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const floatRandom = (f: number): Random => ({ bytes: (n) => new Uint8Array(n), int: () => 0, float: () => f })

/** Lets promise callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

describe('renewalTime', () => {
  it('is 50 % of validity at float 0 and 80 % at the largest float', () => {
    const v = { notBefore: 1000, notAfter: 1000 + 100 * DAY }
    expect(renewalTime(v, floatRandom(0))).toBe(1000 + 50 * DAY)
    expect(renewalTime(v, floatRandom(0.5))).toBe(1000 + 65 * DAY)
    expect(renewalTime(v, floatRandom(1 - 2 ** -53))).toBe(1000 + 80 * DAY)
  })

  it('always falls in [50 %, 80 %] of the validity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 40 }), fc.integer(), (nb, span, seed) => {
        const t = renewalTime({ notBefore: nb, notAfter: nb + span }, new SeededRandom(seed))
        expect(t).toBeGreaterThanOrEqual(nb + Math.floor(span * 0.5))
        expect(t).toBeLessThan(nb + Math.ceil(span * 0.8) + 1)
      }),
    )
  })

  it('refuses an empty validity', () => {
    expect(() => renewalTime({ notBefore: 5, notAfter: 5 }, floatRandom(0))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'validity' }))
  })
})

describe('CertificateRenewer on a ManualClock', () => {
  it('renews at the drawn point and reschedules from each new certificate', async () => {
    const clock = new ManualClock(0)
    const renewedAt: number[] = []
    let n = 0
    const renewer = new CertificateRenewer({
      clock,
      random: floatRandom(0.5),
      renew: () => {
        renewedAt.push(clock.now())
        n++
        return Promise.resolve<Validity>({ notBefore: clock.now() - HOUR, notAfter: clock.now() + 90 * DAY })
      },
    })
    renewer.start({ notBefore: -HOUR, notAfter: 90 * DAY })
    const first = -HOUR + Math.floor((90 * DAY + HOUR) * 0.65)
    expect(renewer.nextRenewalAt).toBe(first)
    clock.advance(first - 1)
    await flush()
    expect(n).toBe(0)
    clock.advance(1)
    await flush()
    expect(renewedAt).toEqual([first])
    const second = first - HOUR + Math.floor((90 * DAY + HOUR) * 0.65)
    expect(renewer.nextRenewalAt).toBe(second)
    clock.advance(second - first)
    await flush()
    expect(renewedAt).toEqual([first, second])
    renewer.stop()
    expect(renewer.nextRenewalAt).toBeUndefined()
    clock.advance(365 * DAY)
    await flush()
    expect(n).toBe(2)
  })

  it('renews at once when the point has passed, and retries failures with doubling backoff', async () => {
    const clock = new ManualClock(100 * DAY)
    const attempts: number[] = []
    const renewer = new CertificateRenewer({
      clock,
      random: floatRandom(0),
      minRetryDelayMs: 1000,
      maxRetryDelayMs: 4000,
      renew: () => {
        attempts.push(clock.now())
        if (attempts.length <= 4) return Promise.reject(new Error('CA unreachable'))
        return Promise.resolve({ notBefore: clock.now(), notAfter: clock.now() + 10 * HOUR })
      },
    })
    renewer.start({ notBefore: 0, notAfter: 90 * DAY })
    clock.advance(0)
    await flush()
    const t = 100 * DAY
    expect(attempts).toEqual([t])
    for (const step of [1000, 2000, 4000, 4000]) {
      clock.advance(step)
      await flush()
    }
    expect(attempts).toEqual([t, t + 1000, t + 3000, t + 7000, t + 11000])
    expect(renewer.nextRenewalAt).toBe(t + 11000 + 5 * HOUR)
    renewer.stop()
  })

  it('renewNow joins a renewal already in flight', async () => {
    const clock = new ManualClock(0)
    let calls = 0
    let release: (() => void) | undefined
    const renewer = new CertificateRenewer({
      clock,
      random: floatRandom(0),
      renew: () => {
        calls++
        return new Promise<Validity>((resolve) => {
          release = () => resolve({ notBefore: 0, notAfter: 10 * HOUR })
        })
      },
    })
    renewer.start({ notBefore: 0, notAfter: 10 * HOUR })
    const a = renewer.renewNow()
    const b = renewer.renewNow()
    expect(calls).toBe(1)
    release?.()
    await Promise.all([a, b])
    expect(renewer.nextRenewalAt).toBe(5 * HOUR)
    renewer.stop()
  })
})

describe('renewal end to end on a ManualClock', () => {
  it('a node renews its certificate from the CA at the drawn point and its TLS material follows', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1))
    const random = new SeededRandom(42)
    const ca = await RootCA.create({ clock })
    const key = await generateNodeKey()
    const csr = await createCsr(key)
    const first = await ca.issue(csr, { nodeId: 'n1', role: 'worker', clusterId: 'c1', clock, ttlMs: 10 * DAY })
    const source = new TlsMaterialSource({ keyPem: key.keyPem, certChainPem: first.chainPem, trustBundlePem: ca.certPem })
    const renewer = new CertificateRenewer({
      clock,
      random,
      renew: async () => {
        const next = await ca.issue(csr, { nodeId: 'n1', role: 'worker', clusterId: 'c1', clock, ttlMs: 10 * DAY })
        source.update({ ...source.current, certChainPem: next.chainPem })
        return next
      },
    })
    renewer.start(first)
    const at = renewer.nextRenewalAt ?? 0
    const span = first.notAfter - first.notBefore
    expect(at).toBeGreaterThanOrEqual(first.notBefore + span * 0.5)
    expect(at).toBeLessThanOrEqual(first.notBefore + span * 0.8)
    expect(at).toBe(renewalTime(first, new SeededRandom(42)))
    clock.advance(at - clock.now())
    for (let i = 0; i < 20 && source.current.certChainPem === first.chainPem; i++) await flush()
    const renewed = new X509Certificate(source.current.certChainPem)
    expect(new Date(renewed.validFrom).getTime()).toBe(Math.floor(at / 1000) * 1000 - HOUR)
    expect(identityOf(renewed).nodeId).toBe('n1')
    expect(renewer.nextRenewalAt).toBeGreaterThan(at)
    renewer.stop()
  })
})
