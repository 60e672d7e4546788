/**
 * The structured flag values of `service create/update`: `--publish`, `--mount`, `--secret` and
 * `--config`, in Docker's short and long (`a=b,c=d`) forms.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { ConfigReference, Mount, MountType, PortConfig, PortProtocol, PublishMode, SecretReference } from '@swarmkit-ts/api'
import type { ControlClient } from '@swarmkit-ts/core'
import { parseChoice, parseCsvOptions, parseInteger } from './values.ts'

const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp']
const PUBLISH_MODES: readonly PublishMode[] = ['ingress', 'host']
const MOUNT_TYPES: readonly MountType[] = ['bind', 'volume', 'tmpfs', 'npipe', 'cluster']

function port(flag: string, value: string): number {
  const n = parseInteger(flag, value)
  if (n < 1 || n > 65535) throw new InvalidArgumentError(flag, `port must be 1–65535, got ${value}`)
  return n
}

/**
 * A published port: `[published:]target[/protocol]` (`8080:80`, `53:53/udp`, `80`: a port the
 * cluster chooses) or `published=8080,target=80,protocol=udp,mode=host`.
 */
export function parsePublish(flag: string, value: string): PortConfig {
  if (value.includes('=')) {
    const o = parseCsvOptions(flag, value)
    for (const k of o.keys()) if (!['published', 'target', 'protocol', 'mode'].includes(k)) throw new InvalidArgumentError(flag, `unknown field ${k} in ${JSON.stringify(value)}`)
    const target = o.get('target')
    if (target === undefined) throw new InvalidArgumentError(flag, `needs target=<port> in ${JSON.stringify(value)}`)
    const published = o.get('published')
    const protocol = o.get('protocol')
    const mode = o.get('mode')
    return {
      targetPort: port(flag, target),
      ...(published === undefined ? {} : { publishedPort: port(flag, published) }),
      protocol: protocol === undefined ? 'tcp' : parseChoice(flag, protocol, PROTOCOLS),
      publishMode: mode === undefined ? 'ingress' : parseChoice(flag, mode, PUBLISH_MODES),
    }
  }
  const m = /^(?:(\d+):)?(\d+)(?:\/(\w+))?$/.exec(value)
  if (m === null) throw new InvalidArgumentError(flag, `must be [published:]target[/protocol], got ${JSON.stringify(value)}`)
  return {
    targetPort: port(flag, m[2] ?? ''),
    ...(m[1] === undefined ? {} : { publishedPort: port(flag, m[1]) }),
    protocol: m[3] === undefined ? 'tcp' : parseChoice(flag, m[3], PROTOCOLS),
    publishMode: 'ingress',
  }
}

/** The key `--publish-rm` matches a published port by: `published[/protocol]` or `target`. */
export function portKey(p: PortConfig): string {
  return `${p.publishedPort ?? 0}/${p.protocol ?? 'tcp'}`
}

/** A mount: `type=bind,source=/srv,target=/data,readonly` (`src`, `dst`/`destination`, `ro` too). */
export function parseMount(flag: string, value: string): Mount {
  const o = parseCsvOptions(flag, value)
  const type = parseChoice(flag, o.get('type') ?? 'volume', MOUNT_TYPES)
  const source = o.get('source') ?? o.get('src')
  const target = o.get('target') ?? o.get('dst') ?? o.get('destination')
  if (target === undefined || target === '') throw new InvalidArgumentError(flag, `needs target=<path> in ${JSON.stringify(value)}`)
  const ro = o.get('readonly') ?? o.get('ro')
  const readOnly = ro !== undefined && ro !== 'false' && ro !== '0'
  return { type, target, ...(source === undefined ? {} : { source }), ...(readOnly ? { readOnly } : {}) }
}

interface FileRef {
  readonly source: string
  readonly target: string
  readonly uid?: string
  readonly gid?: string
  readonly mode?: number
}

/** `name` or `source=name,target=file,uid=0,gid=0,mode=0400`. */
function parseFileRef(flag: string, value: string): FileRef {
  if (!value.includes('=')) return { source: value, target: value }
  const o = parseCsvOptions(flag, value)
  const source = o.get('source') ?? o.get('src')
  if (source === undefined || source === '') throw new InvalidArgumentError(flag, `needs source=<name> in ${JSON.stringify(value)}`)
  const mode = o.get('mode')
  if (mode !== undefined && !/^[0-7]{3,4}$/.test(mode)) throw new InvalidArgumentError(flag, `mode must be octal such as 0400, got ${JSON.stringify(mode)}`)
  const uid = o.get('uid')
  const gid = o.get('gid')
  return {
    source,
    target: o.get('target') ?? source,
    ...(uid === undefined ? {} : { uid }),
    ...(gid === undefined ? {} : { gid }),
    ...(mode === undefined ? {} : { mode: parseInt(mode, 8) }),
  }
}

function fileTarget(ref: FileRef): { name: string; uid?: string; gid?: string; mode?: number } {
  return { name: ref.target, ...(ref.uid === undefined ? {} : { uid: ref.uid }), ...(ref.gid === undefined ? {} : { gid: ref.gid }), ...(ref.mode === undefined ? {} : { mode: ref.mode }) }
}

/** `--secret` values resolved to secret ids through the control API (`NotFoundError` when missing). */
export async function resolveSecrets(control: ControlClient, flag: string, values: readonly string[]): Promise<SecretReference[]> {
  const out: SecretReference[] = []
  for (const v of values) {
    const ref = parseFileRef(flag, v)
    const secret = await control.secrets.get(ref.source)
    out.push({ secretId: secret.id, secretName: secret.spec.annotations.name, file: { ...fileTarget(ref), ...(ref.mode === undefined ? { mode: 0o444 } : {}) } })
  }
  return out
}

/** `--config` values resolved to config ids through the control API. */
export async function resolveConfigs(control: ControlClient, flag: string, values: readonly string[]): Promise<ConfigReference[]> {
  const out: ConfigReference[] = []
  for (const v of values) {
    const ref = parseFileRef(flag, v)
    const config = await control.configs.get(ref.source)
    out.push({ configId: config.id, configName: config.spec.annotations.name, file: { ...fileTarget(ref), ...(ref.mode === undefined ? { mode: 0o444 } : {}) } })
  }
  return out
}
