/**
 * Pieces every Docker object shares: `ID`, `Version: {Index}`, `CreatedAt` / `UpdatedAt` in
 * RFC 3339 with nanoseconds, and `Spec.Name` / `Spec.Labels` from annotations.
 *
 * @module
 */
import { InvalidArgumentError, type Annotations, type Meta } from '@swarmkit-ts/api'

/** Docker's object version. */
export interface DockerVersion {
  readonly Index: number
}

/** A time as Docker writes it: RFC 3339 in UTC with nanoseconds (`2026-12-07T04:56:41.123000000Z`). */
export function dockerTime(ms: number): string {
  const iso = new Date(ms).toISOString() // 2026-12-07T04:56:41.123Z
  return `${iso.slice(0, 23)}000000Z`
}

/** A Docker time (RFC 3339, any fraction) as ms since the epoch; undefined when it does not parse. */
export function parseDockerTime(s: string): number | undefined {
  const ms = Date.parse(s)
  return Number.isNaN(ms) ? undefined : ms
}

/** `ID`, `Version`, `CreatedAt`, `UpdatedAt` of an object. */
export function dockerMeta(id: string, meta: Meta): { ID: string; Version: DockerVersion; CreatedAt: string; UpdatedAt: string } {
  return { ID: id, Version: { Index: Number(meta.version.index) }, CreatedAt: dockerTime(meta.createdAt), UpdatedAt: dockerTime(meta.updatedAt) }
}

/** `Name` and `Labels` of a Docker spec from annotations (`Labels` always an object, as Docker sends it). */
export function dockerAnnotations(a: Annotations): { Name: string; Labels: Record<string, string> } {
  return { Name: a.name, Labels: { ...(a.labels ?? {}) } }
}

/**
 * The `version` query parameter of an update (`?version=12`) as the api's version option; 400
 * when it is missing or not a non-negative integer.
 */
export function versionParam(raw: unknown): bigint {
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) {
    throw new InvalidArgumentError('version', `invalid version ${JSON.stringify(raw ?? null)}: must be the object's Version.Index`)
  }
  return BigInt(raw)
}

/**
 * An update body without a top-level `version` equal to the query's: dockerode's `update({
 * version, ...Spec })` (services, nodes, secrets, configs) sends its options as both the query and
 * the body, and dockerd's JSON decoding ignores the extra field. Any other `version` stays, for the
 * strict translation to refuse.
 */
export function withoutEchoedVersion(body: unknown, version: bigint): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('version' in body)) return body
  const { version: echoed, ...rest } = body as Record<string, unknown>
  return (typeof echoed === 'number' || typeof echoed === 'string') && String(echoed) === String(version) ? rest : body
}
