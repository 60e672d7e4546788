/**
 * The actions token: 32 random bytes (base64url) made at start and printed, or the embedder's
 * own. A request proves it with `Authorization: Bearer <token>`; the comparison takes the same
 * time whatever the mismatch (SHA-256 of both, then `timingSafeEqual`).
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** The shortest token accepted from an embedder. */
export const MIN_TOKEN_LENGTH = 16

/** A new random token (43 base64url characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/** Checks an embedder's token: printable ASCII without spaces, at least {@link MIN_TOKEN_LENGTH} characters. */
export function checkToken(token: string, field = 'token'): string {
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) throw new InvalidArgumentError(field, `must be a string of at least ${MIN_TOKEN_LENGTH} characters`)
  if (!/^[\x21-\x7e]+$/.test(token)) throw new InvalidArgumentError(field, 'must be printable ASCII without spaces')
  return token
}

/** Whether an `Authorization` header carries `token` as a bearer token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (typeof header !== 'string') return false
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim())
  if (m === null) return false
  const a = createHash('sha256').update(m[1] ?? '').digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b)
}
