/**
 * Join tokens, `SWMTKN-1-<digest>-<secret>` (SwarmKit ca/config.go): `<digest>` is the SHA-256 of
 * the root CA certificate PEM as a base-36 integer zero-padded to 50 characters; `<secret>` is
 * 16 random bytes as a base-36 integer zero-padded to 25 characters. The secret decides the
 * role; the digest lets a joining node check the CA it is shown before it sends the secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { InvalidArgumentError, PermissionDeniedError, cryptoRandom, type NodeRole, type Random } from '@swarmkit-ts/api'

/** Prefix of a version-1 join token. */
export const JOIN_TOKEN_PREFIX = 'SWMTKN-1-'
/** Length of the base-36 root CA digest in a join token. */
export const JOIN_TOKEN_DIGEST_LENGTH = 50
/** Length of the base-36 secret in a join token. */
export const JOIN_TOKEN_SECRET_LENGTH = 25
/** Random bytes in a join token's secret. */
export const JOIN_TOKEN_SECRET_BYTES = 16

/** The parts of a join token. */
export interface ParsedJoinToken {
  /** Format version (always 1). */
  readonly version: 1
  /** The root CA digest, base 36, 50 characters. */
  readonly digest: string
  /** The root CA digest as lowercase hex (64 characters), comparable to {@link RootCA.digest}. */
  readonly digestHex: string
  /** The secret, base 36, 25 characters. */
  readonly secret: string
}

const BASE36 = /^[0-9a-z]+$/

function toBase36(bytes: Uint8Array, width: number): string {
  const n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'))
  return n.toString(36).padStart(width, '0')
}

/** SHA-256 of a root CA PEM, as the 50-character base-36 digest of a join token. */
export function joinTokenDigest(rootCaPem: string): string {
  return toBase36(createHash('sha256').update(rootCaPem).digest(), JOIN_TOKEN_DIGEST_LENGTH)
}

/**
 * A new join token for the root CA `rootCaPem`.
 *
 * @param random - source of the 16 secret bytes (inject a seeded one in tests). @default cryptoRandom
 */
export function generateJoinToken(rootCaPem: string, random: Random = cryptoRandom): string {
  const secret = toBase36(random.bytes(JOIN_TOKEN_SECRET_BYTES), JOIN_TOKEN_SECRET_LENGTH)
  return `${JOIN_TOKEN_PREFIX}${joinTokenDigest(rootCaPem)}-${secret}`
}

/**
 * Parses a join token.
 *
 * @throws InvalidArgumentError (`field`) when it is not a well-formed version-1 token.
 */
export function parseJoinToken(token: unknown, field = 'token'): ParsedJoinToken {
  if (typeof token !== 'string') throw new InvalidArgumentError(field, 'must be a string')
  const parts = token.split('-')
  if (parts.length < 4 || parts[0] !== 'SWMTKN') throw new InvalidArgumentError(field, 'is not a swarm join token (SWMTKN-1-<digest>-<secret>)')
  if (parts[1] !== '1') throw new InvalidArgumentError(field, `unsupported join token version ${JSON.stringify(parts[1])}`)
  if (parts.length !== 4) throw new InvalidArgumentError(field, 'must have four dash-separated parts')
  const digest = parts[2] ?? ''
  const secret = parts[3] ?? ''
  if (digest.length !== JOIN_TOKEN_DIGEST_LENGTH || !BASE36.test(digest)) {
    throw new InvalidArgumentError(field, `root CA digest must be ${JOIN_TOKEN_DIGEST_LENGTH} base-36 characters`)
  }
  if (secret.length !== JOIN_TOKEN_SECRET_LENGTH || !BASE36.test(secret)) {
    throw new InvalidArgumentError(field, `secret must be ${JOIN_TOKEN_SECRET_LENGTH} base-36 characters`)
  }
  const n = [...digest].reduce((acc, ch) => acc * 36n + BigInt(parseInt(ch, 36)), 0n)
  if (n >= 1n << 256n) throw new InvalidArgumentError(field, 'root CA digest is larger than 256 bits')
  return { version: 1, digest, digestHex: n.toString(16).padStart(64, '0'), secret }
}

/**
 * What a joining node does with the root CA a manager showed it, before it sends anything
 * secret: checks the certificate's digest against the token.
 *
 * @throws InvalidArgumentError (`token`) when the token is malformed.
 * @throws PermissionDeniedError when the shown root CA does not match the token's digest.
 */
export function verifyRootCAForToken(token: string, rootCaPem: string): void {
  const parsed = parseJoinToken(token)
  if (parsed.digest !== joinTokenDigest(rootCaPem)) {
    throw new PermissionDeniedError("the remote root CA does not match the join token's digest: refusing to join")
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** The two join tokens of a cluster. */
export interface JoinTokenPair {
  /** Token that admits workers. */
  readonly worker: string
  /** Token that admits managers. */
  readonly manager: string
}

/**
 * The cluster's join tokens, one per role. Rotating a role's token invalidates the previous
 * one; a root CA change keeps the secrets but changes every digest.
 *
 * Immutable: rotation returns a new set.
 */
export class JoinTokens implements JoinTokenPair {
  readonly worker: string
  readonly manager: string

  private constructor(worker: string, manager: string) {
    this.worker = worker
    this.manager = manager
  }

  /** Fresh tokens for both roles. */
  static generate(rootCaPem: string, random: Random = cryptoRandom): JoinTokens {
    return new JoinTokens(generateJoinToken(rootCaPem, random), generateJoinToken(rootCaPem, random))
  }

  /**
   * Restores stored tokens.
   *
   * @throws InvalidArgumentError (`worker` / `manager`) when one is malformed.
   */
  static from(pair: JoinTokenPair): JoinTokens {
    parseJoinToken(pair.worker, 'worker')
    parseJoinToken(pair.manager, 'manager')
    return new JoinTokens(pair.worker, pair.manager)
  }

  /** A set in which `role`'s token is new (the old one stops working) and the other is unchanged. */
  rotate(role: NodeRole, rootCaPem: string, random: Random = cryptoRandom): JoinTokens {
    const token = generateJoinToken(rootCaPem, random)
    return role === 'manager' ? new JoinTokens(this.worker, token) : new JoinTokens(token, this.manager)
  }

  /** The same secrets with the digest of a new root CA (after a root rotation completes). */
  forRootCA(rootCaPem: string): JoinTokens {
    const d = joinTokenDigest(rootCaPem)
    const redo = (t: string): string => `${JOIN_TOKEN_PREFIX}${d}-${parseJoinToken(t).secret}`
    return new JoinTokens(redo(this.worker), redo(this.manager))
  }

  /** The token of `role`. */
  get(role: NodeRole): string {
    return role === 'manager' ? this.manager : this.worker
  }

  /**
   * The role a presented token admits (constant-time comparison of the whole token).
   *
   * @throws InvalidArgumentError (`token`) when it is malformed.
   * @throws PermissionDeniedError when it is not one of the current tokens.
   */
  roleOf(token: string): NodeRole {
    parseJoinToken(token)
    const isManager = sameToken(token, this.manager)
    const isWorker = sameToken(token, this.worker)
    if (isManager) return 'manager'
    if (isWorker) return 'worker'
    throw new PermissionDeniedError('invalid join token')
  }

  /** The plain pair, for storage. */
  toJSON(): JoinTokenPair {
    return { worker: this.worker, manager: this.manager }
  }
}
