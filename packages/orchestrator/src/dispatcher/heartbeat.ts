/**
 * Pure decisions of sessions and heartbeats: the jittered period answered to an agent, and
 * the registration rate limit.
 *
 * @module
 */
import type { Random } from '@swarmkit-ts/api'
import { HEARTBEAT_EPSILON_MS, MAX_REREGISTRATIONS, RATE_LIMIT_PERIOD_MS } from './config.ts'

/**
 * A heartbeat period jittered uniformly within `[periodMs - epsilon, periodMs + epsilon)`
 * (SwarmKit's `periodChooser`), so that a fleet restarted together does not beat in step.
 * The epsilon is {@link HEARTBEAT_EPSILON_MS}, capped at half the period.
 */
export function chooseHeartbeatPeriod(periodMs: number, random: Random): number {
  const epsilon = Math.min(HEARTBEAT_EPSILON_MS, Math.floor(periodMs / 2))
  if (epsilon === 0) return periodMs
  return periodMs - epsilon + random.int(2 * epsilon)
}

/** What the dispatcher remembers of a node's registrations. */
export interface RegistrationRecord {
  /** Registrations counted in the current window (the first one is not counted). */
  readonly attempts: number
  /** When the node last registered successfully. */
  readonly lastAt: number
}

/** The outcome of {@link checkRegistration}: the record to keep, and whether the registration is allowed. */
export interface RegistrationDecision {
  readonly allowed: boolean
  readonly record: RegistrationRecord
}

/**
 * SwarmKit's `CheckRateLimit`: a node may register again at most {@link MAX_REREGISTRATIONS}
 * times while each registration follows the previous one within {@link RATE_LIMIT_PERIOD_MS};
 * the next one is refused (and counted, so a node that keeps trying stays refused until it
 * waits out the window). A first registration (`previous` undefined) is always allowed.
 */
export function checkRegistration(previous: RegistrationRecord | undefined, now: number): RegistrationDecision {
  if (previous === undefined) return { allowed: true, record: { attempts: 0, lastAt: now } }
  const attempts = (now - previous.lastAt > RATE_LIMIT_PERIOD_MS ? 0 : previous.attempts) + 1
  if (attempts > MAX_REREGISTRATIONS) return { allowed: false, record: { attempts, lastAt: previous.lastAt } }
  return { allowed: true, record: { attempts, lastAt: now } }
}
