/**
 * Certificate renewal: at a random point between 50 % and 80 % of the certificate's validity
 * (SwarmKit's `calculateRandomExpiry`), so that a cluster's nodes do not all renew at once.
 * Deterministic: time and randomness are injected.
 */
import { InvalidArgumentError, silentLogger, type Clock, type Logger, type Random, type Timer } from '@swarmkit-ts/api'

/** Validity period of a certificate, ms since the epoch. */
export interface Validity {
  readonly notBefore: number
  readonly notAfter: number
}

/** Earliest fraction of validity at which a certificate is renewed. */
export const RENEWAL_MIN_FRACTION = 0.5
/** Latest fraction of validity at which a certificate is renewed. */
export const RENEWAL_MAX_FRACTION = 0.8

/** The instant (ms since the epoch) at which to renew a certificate: uniform over 50 %–80 % of its validity. */
export function renewalTime(validity: Validity, random: Random): number {
  const span = validity.notAfter - validity.notBefore
  if (!(span > 0)) throw new InvalidArgumentError('validity', 'notAfter must be after notBefore')
  const fraction = RENEWAL_MIN_FRACTION + (RENEWAL_MAX_FRACTION - RENEWAL_MIN_FRACTION) * random.float()
  return validity.notBefore + Math.floor(span * fraction)
}

/** Construction options of {@link CertificateRenewer}. */
export interface CertificateRenewerInit {
  clock: Clock
  random: Random
  /** Obtains a new certificate (new key, CSR, CA call, store) and returns its validity. */
  renew: () => Promise<Validity>
  /** Called after each successful renewal. */
  onRenewed?: (validity: Validity) => void
  /** First retry delay after a failed renewal; doubles up to `maxRetryDelayMs`. @default 1000 */
  minRetryDelayMs?: number
  /** @default 300000 (5 minutes) */
  maxRetryDelayMs?: number
  logger?: Logger
}

/**
 * Keeps a node's certificate fresh: schedules {@link CertificateRenewerInit.renew} at
 * {@link renewalTime} of the current certificate, reschedules from each new certificate, and
 * retries a failed renewal with exponential backoff. One renewal runs at a time.
 */
export class CertificateRenewer {
  readonly #init: CertificateRenewerInit
  #timer: Timer | undefined
  #nextAt: number | undefined
  #running: Promise<void> | undefined
  #stopped = true
  #failures = 0

  constructor(init: CertificateRenewerInit) {
    this.#init = init
  }

  /** When the next renewal is due (ms since the epoch), or `undefined` when none is scheduled. */
  get nextRenewalAt(): number | undefined {
    return this.#nextAt
  }

  /** Starts from the current certificate's validity. */
  start(current: Validity): void {
    this.#stopped = false
    this.#schedule(renewalTime(current, this.#init.random))
  }

  /** Cancels any scheduled renewal (a renewal in flight completes but schedules nothing). */
  stop(): void {
    this.#stopped = true
    this.#timer?.cancel()
    this.#timer = undefined
    this.#nextAt = undefined
  }

  /** Renews now (e.g. told to by the CA during a root rotation); joins a renewal already running. */
  renewNow(): Promise<void> {
    this.#timer?.cancel()
    this.#timer = undefined
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  #schedule(at: number): void {
    if (this.#stopped) return
    this.#timer?.cancel()
    this.#nextAt = at
    this.#timer = this.#init.clock.setTimeout(() => {
      this.#timer = undefined
      void this.renewNow()
    }, at - this.#init.clock.now())
  }

  async #run(): Promise<void> {
    const log = this.#init.logger ?? silentLogger
    try {
      const v = await this.#init.renew()
      this.#failures = 0
      this.#init.onRenewed?.(v)
      this.#schedule(renewalTime(v, this.#init.random))
    } catch (err) {
      this.#failures++
      const min = this.#init.minRetryDelayMs ?? 1000
      const max = this.#init.maxRetryDelayMs ?? 300_000
      const delay = Math.min(max, min * 2 ** Math.min(this.#failures - 1, 30))
      log.warn('certificate renewal failed; retrying', { err: err instanceof Error ? err.message : String(err), retryInMs: delay })
      this.#schedule(this.#init.clock.now() + delay)
    }
  }
}
