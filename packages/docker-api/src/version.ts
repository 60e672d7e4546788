/**
 * API versions: the server speaks 1.41 (Docker Engine 20.10, Debian's docker.io) and accepts
 * requests from 1.12 on, on versioned (`/v1.41/services`) and unversioned paths alike. A newer
 * client negotiates down through `/_ping`'s `API-Version` header; a request for a newer version
 * than ours is refused as Docker refuses it.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'
import { DockerApiError } from './errors.ts'

/** The Docker Engine API version this server speaks. */
export const API_VERSION = '1.41'
/** The oldest API version a client may ask for. */
export const MIN_API_VERSION = '1.12'

const VERSIONED = /^\/v(\d+\.\d+)(?=\/|\?|$)/
const versions = new WeakMap<IncomingMessage, string>()

/** Compares two `major.minor` versions: negative, zero or positive. */
export function compareApiVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number)
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number)
  return aMajor === bMajor ? aMinor - bMinor : aMajor - bMajor
}

/**
 * Strips a `/v1.xx` prefix from `req.url`, remembering the version for {@link requestApiVersion};
 * the router sees unversioned paths only.
 */
export function stripVersion(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const m = VERSIONED.exec(url)
  if (m === null) return url
  versions.set(req, m[1] as string)
  const rest = url.slice(m[0].length)
  return rest.startsWith('/') ? rest : `/${rest}`
}

/** The API version a request asked for (its path prefix), or {@link API_VERSION} when unversioned. */
export function requestApiVersion(req: IncomingMessage): string {
  return versions.get(req) ?? API_VERSION
}

/** Refuses a version outside [{@link MIN_API_VERSION}, {@link API_VERSION}] with Docker's messages. */
export function checkApiVersion(req: IncomingMessage): void {
  const v = versions.get(req)
  if (v === undefined) return
  if (compareApiVersions(v, API_VERSION) > 0) {
    throw new DockerApiError(400, `client version ${v} is too new. Maximum supported API version is ${API_VERSION}`)
  }
  if (compareApiVersions(v, MIN_API_VERSION) < 0) {
    throw new DockerApiError(400, `client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`)
  }
}
