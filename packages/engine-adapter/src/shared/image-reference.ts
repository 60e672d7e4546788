/**
 * Image references, checked against Docker's reference grammar (the `distribution/reference`
 * grammar the Docker engine, containerd's CRI and registries use):
 *
 * ```text
 * reference        := name [ ":" tag ] [ "@" digest ]
 * name             := [ domain "/" ] path-component { "/" path-component }    (at most 255 characters)
 * domain           := host [ ":" port ]
 * host             := domain-component { "." domain-component } | "[" IPv6 "]"
 * domain-component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
 * port             := [0-9]+
 * path-component   := [a-z0-9]+ { separator [a-z0-9]+ }
 * separator        := "." | "_" | "__" | "-"+
 * tag              := [\w][\w.-]{0,127}
 * digest           := algorithm ":" hex
 * algorithm        := [A-Za-z][A-Za-z0-9]* { [-_+.] [A-Za-z][A-Za-z0-9]* }
 * hex              := [0-9a-fA-F]{32,}
 * ```
 *
 * As in Docker, a digest must also use a supported algorithm with its exact length in lowercase
 * hex: `sha256` (64), `sha384` (96) or `sha512` (128). Path components are lowercase; the domain
 * may have capitals (`Example.com/app` is valid, `Example/App` is not). A name of 64 hex digits is
 * accepted as the grammar allows (the Docker engine takes it as an image ID).
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** A well-formed image reference, split into its parts (not normalised: no implied `docker.io` or `latest`). */
export interface ImageReference {
  /** The registry host (with port), when the first component names one (it has a `.` or `:`, is `localhost`, or has capitals). */
  readonly domain: string | undefined
  /** The repository path, e.g. `library/busybox` or `busybox`. */
  readonly path: string
  /** The tag, e.g. `1.36`. */
  readonly tag: string | undefined
  /** The digest, e.g. `sha256:…`. */
  readonly digest: string | undefined
}

/** Longest name (domain and path) Docker accepts. */
export const IMAGE_NAME_MAX_LENGTH = 255

/** No valid reference is longer: a 255-character name, `:` and a 128-character tag, `@sha512:` and 128 hex digits. */
const REFERENCE_MAX_LENGTH = IMAGE_NAME_MAX_LENGTH + 1 + 128 + 8 + 128

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}'
const REFERENCE = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`)

/** Hex length of each digest algorithm Docker supports. */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 }

/** Whether the first component of a name is a registry host rather than a path component (Docker's rule). */
function isDomain(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first
}

/**
 * Parses an image reference, throwing `InvalidArgumentError` naming `field` when it is not
 * well-formed (see the module's grammar). Every runtime calls this before it contacts its engine,
 * so a malformed reference is never reported as a missing image or an engine error.
 *
 * @param field - the field reported in the error. @default 'image'
 */
export function parseImageReference(ref: string, field = 'image'): ImageReference {
  if (typeof ref !== 'string' || ref === '') throw new InvalidArgumentError(field, 'must be a non-empty image reference')
  // Longer than any valid reference (name, tag and a sha512 digest): refused before the regex runs.
  if (ref.length > REFERENCE_MAX_LENGTH) throw new InvalidArgumentError(field, `must not be more than ${REFERENCE_MAX_LENGTH} characters`)
  const m = REFERENCE.exec(ref)
  if (m === null) {
    const why = REFERENCE.test(ref.toLowerCase()) ? 'repository name must be lowercase' : 'invalid reference format'
    throw new InvalidArgumentError(field, `${why}: ${JSON.stringify(ref)}`)
  }
  const name = m[1] ?? ''
  if (name.length > IMAGE_NAME_MAX_LENGTH) {
    throw new InvalidArgumentError(field, `repository name must not be more than ${IMAGE_NAME_MAX_LENGTH} characters (it has ${name.length})`)
  }
  const digest = m[3]
  if (digest !== undefined) {
    const [algorithm = '', hex = ''] = digest.split(':')
    const length = DIGEST_HEX_LENGTH[algorithm]
    if (length === undefined) throw new InvalidArgumentError(field, `unsupported digest algorithm ${JSON.stringify(algorithm)} (sha256, sha384 or sha512)`)
    if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) throw new InvalidArgumentError(field, `a ${algorithm} digest is ${length} lowercase hex digits`)
  }
  const slash = name.indexOf('/')
  const first = slash < 0 ? '' : name.slice(0, slash)
  const hasDomain = slash >= 0 && isDomain(first)
  return {
    domain: hasDomain ? first : undefined,
    path: hasDomain ? name.slice(slash + 1) : name,
    tag: m[2],
    digest,
  }
}

/** Whether `ref` is a well-formed image reference (see {@link parseImageReference}). */
export function isImageReference(ref: string): boolean {
  try {
    parseImageReference(ref)
    return true
  } catch {
    return false
  }
}
