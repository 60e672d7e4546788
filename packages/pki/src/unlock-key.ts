/**
 * Autolock unlock keys, `SWMKEY-1-<base64 of 32 bytes>` (standard alphabet, no padding, as
 * SwarmKit's `HumanReadableKey`).
 */
import { InvalidArgumentError, cryptoRandom, type Random } from '@swarmkit-ts/api'

/** Prefix of an unlock key. */
export const UNLOCK_KEY_PREFIX = 'SWMKEY-1-'
/** Secret bytes in an unlock key. */
export const UNLOCK_KEY_BYTES = 32

/** A new unlock key. @param random - source of the 32 bytes. @default cryptoRandom */
export function generateUnlockKey(random: Random = cryptoRandom): string {
  return UNLOCK_KEY_PREFIX + Buffer.from(random.bytes(UNLOCK_KEY_BYTES)).toString('base64').replace(/=+$/, '')
}

/**
 * The 32 secret bytes of an unlock key.
 *
 * @throws InvalidArgumentError (`field`) when it is not `SWMKEY-1-` followed by 43 base64 characters encoding 32 bytes.
 */
export function parseUnlockKey(unlockKey: unknown, field = 'unlockKey'): Uint8Array {
  if (typeof unlockKey !== 'string' || !unlockKey.startsWith(UNLOCK_KEY_PREFIX)) {
    throw new InvalidArgumentError(field, `must start with ${UNLOCK_KEY_PREFIX}`)
  }
  const body = unlockKey.slice(UNLOCK_KEY_PREFIX.length)
  if (!/^[A-Za-z0-9+/]{43}$/.test(body)) throw new InvalidArgumentError(field, 'must carry 43 base64 characters (32 bytes) after the prefix')
  const bytes = Buffer.from(body, 'base64')
  // 43 characters hold 258 bits: the last 2 must be zero for a canonical encoding of 32 bytes.
  if (bytes.length !== UNLOCK_KEY_BYTES || bytes.toString('base64').replace(/=+$/, '') !== body) {
    throw new InvalidArgumentError(field, 'is not a canonical base64 encoding of 32 bytes')
  }
  return new Uint8Array(bytes)
}
