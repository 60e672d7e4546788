/**
 * One compose service to a ServiceSpec (docker/cli `compose/convert/service.go`): the container
 * (image, entrypoint → command, command → args, environment, labels, …), ports in short and long
 * syntax, network attachments, secret and config references, and `deploy`.
 *
 * @module
 */
import type { ConfigReference, ContainerSpec, EndpointSpec, HealthConfig, NetworkAttachmentConfig, SecretReference, ServiceSpec, Ulimit } from '@swarmkit-ts/api'
import { convertDeploy, convertLegacyRestart } from './convert-deploy.ts'
import type { LookupEnv } from './interpolate.ts'
import { asBool, asDuration, asInt, asMap, asSeq, asString, asStringList, asStringMap, asStringOrList, asText, checkKeys, get } from './read.ts'
import { mountsOf, type DeclaredVolume } from './convert-mounts.ts'
import { portsOf } from './convert-ports.ts'
import { splitCommand } from './shell-split.ts'
import { child, fail, item, type LMap, type LNode } from './tree.ts'
import { IMAGE_LABEL, NAMESPACE_LABEL } from './names.ts'

/** Service keys converted to the spec. */
export const CONVERTED_KEYS = [
  'image', 'command', 'entrypoint', 'environment', 'labels', 'deploy', 'ports', 'networks', 'secrets', 'configs', 'hostname', 'working_dir', 'user',
  'stop_grace_period', 'stop_signal', 'healthcheck', 'restart', 'extra_hosts', 'init', 'tty', 'stdin_open', 'read_only', 'dns', 'dns_search',
  'cap_add', 'cap_drop', 'sysctls', 'ulimits', 'volumes', 'env_file', 'logging',
] as const
/**
 * Keys docker's `stack deploy` names in "Ignoring unsupported options: …" (so do we). `restart` is
 * among them although docker's converter still reads it when `deploy.restart_policy` is absent;
 * we do the same.
 */
export const UNSUPPORTED_KEYS = ['build', 'cgroup_parent', 'devices', 'domainname', 'external_links', 'ipc', 'links', 'mac_address', 'network_mode', 'pid', 'privileged', 'restart', 'security_opt', 'shm_size', 'userns_mode'] as const
/** Keys docker ignores with "Ignoring deprecated options:", and why. */
export const DEPRECATED_KEYS = ['container_name', 'expose'] as const
/** Docker's reason for each deprecated key. */
export const DEPRECATION_REASONS: Readonly<Record<(typeof DEPRECATED_KEYS)[number], string>> = {
  container_name: 'Setting the container name is not supported.',
  expose: "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
}
/** Keys docker ignores silently. */
export const SILENT_KEYS = ['depends_on'] as const
/** Keys docker converts and swarmkit-ts refuses for now (an error naming the key). */
export const NOT_YET_KEYS = ['tmpfs', 'credential_spec', 'isolation'] as const

const ALL_KEYS: readonly string[] = [...CONVERTED_KEYS, ...UNSUPPORTED_KEYS, ...DEPRECATED_KEYS, ...SILENT_KEYS, ...NOT_YET_KEYS]

/** What a service converter needs from the rest of the stack. */
export interface ServiceContext {
  /** The stack name. */
  readonly namespace: string
  /** Variables for environment entries without a value. */
  readonly env: LookupEnv
  /** Networks declared at the top level (plus `default`): compose key → cluster name. */
  readonly networks: ReadonlyMap<string, string>
  /** Secrets declared at the top level: compose key → cluster name. */
  readonly secrets: ReadonlyMap<string, string>
  /** Configs declared at the top level: compose key → cluster name. */
  readonly configs: ReadonlyMap<string, string>
  /** Volumes declared at the top level. */
  readonly volumes: ReadonlyMap<string, DeclaredVolume>
  /** The folder relative bind mounts resolve against. */
  readonly workingDir?: string
  /** Reads an `env_file` as written. */
  readonly readFile: (path: string) => Uint8Array
}

/** A converted service: its spec (secret and config ids still empty: resolved at deploy) and what docker would ignore. */
export interface ConvertedService {
  readonly spec: ServiceSpec
  /** Compose keys of the network keys the service attaches to. */
  readonly networkKeys: readonly string[]
  /** Ignored keys, in docker's two groups. */
  readonly unsupported: readonly string[]
  readonly deprecated: readonly string[]
}

/** Converts service `key` of the stack. */
export function convertService(key: string, node: LNode, ctx: ServiceContext): ConvertedService {
  const path = child('services', key)
  const svc = asMap(node, path)
  checkKeys(svc, path, ALL_KEYS)
  for (const k of NOT_YET_KEYS) {
    const v = get(svc, k)
    if (v !== undefined) fail(svc.keyLocs.get(k) ?? v.loc, child(path, k), 'not supported by swarmkit-ts stacks yet')
  }
  const at = (k: string): string => child(path, k)
  const imageNode = get(svc, 'image')
  if (imageNode === undefined) fail(svc, path, 'image is required')
  const stackLabel = { [NAMESPACE_LABEL]: ctx.namespace }
  const container: ContainerSpec = { image: asString(imageNode, at('image')), labels: { ...labelsOf(get(svc, 'labels'), at('labels')), ...stackLabel } }
  const entrypoint = get(svc, 'entrypoint')
  if (entrypoint !== undefined) container.command = commandOf(entrypoint, at('entrypoint'))
  const command = get(svc, 'command')
  if (command !== undefined) container.args = commandOf(command, at('command'))
  const env = envFiles(get(svc, 'env_file'), at('env_file'), ctx)
  const environment = get(svc, 'environment')
  if (environment !== undefined) for (const [k, v] of asStringMap(environment, at('environment'))) env.set(k, v)
  if (env.size > 0) container.env = environmentOf(env, ctx.env)
  const volumes = get(svc, 'volumes')
  if (volumes !== undefined) container.mounts = mountsOf(volumes, at('volumes'), ctx)
  readContainerScalars(svc, path, container)
  const healthcheck = get(svc, 'healthcheck')
  if (healthcheck !== undefined) container.healthcheck = healthcheckOf(healthcheck, at('healthcheck'))
  const hosts = get(svc, 'extra_hosts')
  if (hosts !== undefined) container.hosts = hostsOf(hosts, at('extra_hosts'))
  const secrets = get(svc, 'secrets')
  if (secrets !== undefined) container.secrets = fileRefs(secrets, at('secrets'), ctx.secrets, 'secret').map((r): SecretReference => ({ secretId: '', secretName: r.name, file: r.file }))
  const configs = get(svc, 'configs')
  if (configs !== undefined) container.configs = fileRefs(configs, at('configs'), ctx.configs, 'config').map((r): ConfigReference => ({ configId: '', configName: r.name, file: r.file }))

  const deploy = convertDeploy(get(svc, 'deploy'), at('deploy'))
  const spec: ServiceSpec = {
    annotations: { name: `${ctx.namespace}_${key}`, labels: { ...labelsOf(deployLabels(svc), at('deploy.labels')), ...stackLabel, [IMAGE_LABEL]: container.image } },
    task: { container },
    mode: deploy.mode,
  }
  const restart = deploy.restart ?? legacyRestart(svc, at('restart'))
  if (restart !== undefined) spec.task.restart = restart
  if (deploy.placement !== undefined) spec.task.placement = deploy.placement
  if (deploy.resources !== undefined) spec.task.resources = deploy.resources
  const logging = get(svc, 'logging')
  if (logging !== undefined) spec.task.logDriver = logDriverOf(logging, at('logging'))
  if (deploy.update !== undefined) spec.update = deploy.update
  if (deploy.rollback !== undefined) spec.rollback = deploy.rollback
  const { attachments, keys } = networksOf(get(svc, 'networks'), svc, at('networks'), key, ctx.networks)
  spec.task.networks = attachments
  const endpoint: EndpointSpec = {}
  if (deploy.endpointMode !== undefined) endpoint.mode = deploy.endpointMode
  const ports = get(svc, 'ports')
  if (ports !== undefined) endpoint.ports = portsOf(ports, at('ports'))
  if (endpoint.mode !== undefined || endpoint.ports !== undefined) spec.endpoint = endpoint
  return {
    spec,
    networkKeys: keys,
    unsupported: UNSUPPORTED_KEYS.filter((k) => svc.entries.has(k)),
    deprecated: DEPRECATED_KEYS.filter((k) => svc.entries.has(k)),
  }
}

function deployLabels(svc: LMap): LNode | undefined {
  const d = get(svc, 'deploy')
  return d?.kind === 'map' ? get(d, 'labels') : undefined
}

function legacyRestart(svc: LMap, path: string): ReturnType<typeof convertLegacyRestart> {
  const r = get(svc, 'restart')
  return r === undefined ? undefined : convertLegacyRestart(r, path)
}

function labelsOf(node: LNode | undefined, path: string): Record<string, string> {
  if (node === undefined) return {}
  const out: Record<string, string> = {}
  for (const [k, v] of asStringMap(node, path)) out[k] = v ?? ''
  return out
}

function commandOf(node: LNode, path: string): string[] {
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    const words = splitCommand(node.value)
    if (words === undefined) fail(node, path, 'unterminated quote')
    return words
  }
  return asStringList(node, path)
}

/** `KEY=value` entries sorted (as docker's); a key without a value takes the variable's value, or is dropped when unset. */
function environmentOf(entries: ReadonlyMap<string, string | undefined>, env: LookupEnv): string[] {
  const out: string[] = []
  for (const [k, v] of entries) {
    const value = v ?? env(k)
    if (value !== undefined) out.push(`${k}=${value}`)
  }
  return out.sort()
}

/** The variables of the `env_file` files in order (`KEY=value` lines; `#` comments and blank lines skipped). */
function envFiles(node: LNode | undefined, path: string, ctx: ServiceContext): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>()
  if (node === undefined) return out
  const names = asStringOrList(node, path)
  names.forEach((name, i) => {
    const at = node.kind === 'seq' ? (node.items[i] ?? node) : node
    const p = node.kind === 'seq' ? item(path, i) : path
    let text: string
    try {
      text = new TextDecoder().decode(ctx.readFile(name))
    } catch (err) {
      return fail(at, p, `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    }
    text.split(/\r?\n/).forEach((line, n) => {
      const l = line.trimStart()
      if (l === '' || l.startsWith('#')) return
      const eq = l.indexOf('=')
      const key = eq < 0 ? l.trimEnd() : l.slice(0, eq)
      if (key === '' || /\s/.test(key)) fail(at, p, `${name}:${n + 1}: invalid variable name ${JSON.stringify(key)}`)
      out.set(key, eq < 0 ? undefined : l.slice(eq + 1))
    })
  })
  return out
}

function logDriverOf(node: LNode, path: string): { name: string; options?: Record<string, string> } {
  const m = asMap(node, path)
  checkKeys(m, path, ['driver', 'options'])
  const driver = get(m, 'driver')
  if (driver === undefined) fail(m, path, 'driver is required')
  const options = get(m, 'options')
  return { name: asString(driver, child(path, 'driver')), ...(options === undefined ? {} : { options: labelsOf(options, child(path, 'options')) }) }
}

function readContainerScalars(svc: LMap, path: string, c: ContainerSpec): void {
  const at = (k: string): string => child(path, k)
  const str = (k: string): string | undefined => {
    const v = get(svc, k)
    return v === undefined ? undefined : asString(v, at(k))
  }
  const bool = (k: string): boolean | undefined => {
    const v = get(svc, k)
    return v === undefined ? undefined : asBool(v, at(k))
  }
  const list = (k: string): string[] | undefined => {
    const v = get(svc, k)
    return v === undefined ? undefined : asStringOrList(v, at(k))
  }
  const hostname = str('hostname')
  if (hostname !== undefined) c.hostname = hostname
  const dir = str('working_dir')
  if (dir !== undefined) c.dir = dir
  const user = str('user')
  if (user !== undefined) c.user = user
  const stopSignal = str('stop_signal')
  if (stopSignal !== undefined) c.stopSignal = stopSignal
  const grace = get(svc, 'stop_grace_period')
  if (grace !== undefined) c.stopGracePeriodMs = asDuration(grace, at('stop_grace_period'))
  const init = bool('init')
  if (init !== undefined) c.init = init
  const tty = bool('tty')
  if (tty !== undefined) c.tty = tty
  const stdin = bool('stdin_open')
  if (stdin !== undefined) c.openStdin = stdin
  const readOnly = bool('read_only')
  if (readOnly !== undefined) c.readOnly = readOnly
  const dns = list('dns')
  const search = list('dns_search')
  if (dns !== undefined || search !== undefined) c.dnsConfig = { ...(dns === undefined ? {} : { nameservers: dns }), ...(search === undefined ? {} : { search }) }
  const capAdd = list('cap_add')
  if (capAdd !== undefined) c.capabilityAdd = capAdd
  const capDrop = list('cap_drop')
  if (capDrop !== undefined) c.capabilityDrop = capDrop
  const sysctls = get(svc, 'sysctls')
  if (sysctls !== undefined) c.sysctls = labelsOf(sysctls, at('sysctls'))
  const ulimits = get(svc, 'ulimits')
  if (ulimits !== undefined) c.ulimits = ulimitsOf(ulimits, at('ulimits'))
}

function ulimitsOf(node: LNode, path: string): Ulimit[] {
  return [...asMap(node, path).entries].map(([name, v]) => {
    const p = child(path, name)
    if (v.kind === 'scalar') {
      const n = asInt(v, p)
      return { name, soft: n, hard: n }
    }
    const m = asMap(v, p)
    checkKeys(m, p, ['soft', 'hard'])
    const soft = get(m, 'soft')
    const hard = get(m, 'hard')
    if (soft === undefined || hard === undefined) fail(m, p, 'soft and hard are required')
    return { name, soft: asInt(soft, child(p, 'soft')), hard: asInt(hard, child(p, 'hard')) }
  })
}

function healthcheckOf(node: LNode, path: string): HealthConfig {
  const m = asMap(node, path)
  checkKeys(m, path, ['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable'])
  const disable = get(m, 'disable')
  if (disable !== undefined && asBool(disable, child(path, 'disable'))) return { test: ['NONE'] }
  const out: HealthConfig = {}
  const test = get(m, 'test')
  if (test !== undefined) {
    if (test.kind === 'scalar') out.test = ['CMD-SHELL', asString(test, child(path, 'test'))]
    else {
      const list = asStringList(test, child(path, 'test'))
      if (!['NONE', 'CMD', 'CMD-SHELL'].includes(list[0] ?? '')) fail(test, child(path, 'test'), 'must start with NONE, CMD or CMD-SHELL')
      out.test = list
    }
  }
  const durations = [['interval', 'intervalMs'], ['timeout', 'timeoutMs'], ['start_period', 'startPeriodMs'], ['start_interval', 'startIntervalMs']] as const
  for (const [k, f] of durations) {
    const v = get(m, k)
    if (v !== undefined) out[f] = asDuration(v, child(path, k))
  }
  const retries = get(m, 'retries')
  if (retries !== undefined) out.retries = asInt(retries, child(path, 'retries'))
  return out
}

/** `host:ip` (or `host=ip`, or a mapping) → `ip host`, as docker's convertExtraHosts. */
function hostsOf(node: LNode, path: string): string[] {
  if (node.kind === 'map') return [...asStringMap(node, path)].map(([h, ip]) => `${ip ?? ''} ${h}`)
  return asSeq(node, path).items.map((x, i) => {
    const s = asText(x, item(path, i))
    const m = /^([^:=]+)[:=](.+)$/.exec(s)
    if (m === null) fail(x, item(path, i), 'must be host:ip')
    return `${m[2] ?? ''} ${m[1] ?? ''}`
  })
}

function networksOf(node: LNode | undefined, svc: LMap, path: string, service: string, declared: ReadonlyMap<string, string>): { attachments: NetworkAttachmentConfig[]; keys: string[] } {
  const entries: [string, LNode | undefined][] = node === undefined ? [['default', undefined]] : [...asMap(node, path).entries]
  const attachments: NetworkAttachmentConfig[] = []
  const keys: string[] = []
  for (const [key, value] of entries) {
    const p = child(path, key)
    const target = declared.get(key)
    if (target === undefined) fail(value ?? node ?? svc, p, `service refers to undefined network ${key}`)
    const aliases = [service]
    if (value !== undefined && !(value.kind === 'scalar' && value.value === null)) {
      const m = asMap(value, p)
      checkKeys(m, p, ['aliases', 'ipv4_address', 'ipv6_address'])
      const a = get(m, 'aliases')
      if (a !== undefined) aliases.push(...asStringList(a, child(p, 'aliases')))
      for (const k of ['ipv4_address', 'ipv6_address']) {
        const v = get(m, k)
        if (v !== undefined) fail(v, child(p, k), 'not supported in swarm mode')
      }
    }
    attachments.push({ target, aliases })
    keys.push(key)
  }
  attachments.sort((a, b) => a.target.localeCompare(b.target))
  return { attachments, keys }
}

/** Secret or config references in short (`- name`) or long (`{source, target, uid, gid, mode}`) syntax. */
function fileRefs(node: LNode, path: string, declared: ReadonlyMap<string, string>, what: 'secret' | 'config'): { name: string; file: SecretReference['file'] }[] {
  return asSeq(node, path).items.map((x, i) => {
    const p = item(path, i)
    const m = x.kind === 'map' ? x : undefined
    if (m !== undefined) checkKeys(m, p, ['source', 'target', 'uid', 'gid', 'mode'])
    const sourceNode = m === undefined ? x : get(m, 'source')
    if (sourceNode === undefined) fail(x, p, 'source is required')
    const source = asString(sourceNode, m === undefined ? p : child(p, 'source'))
    const name = declared.get(source)
    if (name === undefined) fail(sourceNode, p, `undefined ${what} ${JSON.stringify(source)}`)
    const targetNode = m === undefined ? undefined : get(m, 'target')
    const target = targetNode === undefined ? (what === 'secret' ? source : `/${source}`) : asString(targetNode, child(p, 'target'))
    const file: SecretReference['file'] = { name: target, uid: '0', gid: '0', mode: 0o444 }
    const uid = m === undefined ? undefined : get(m, 'uid')
    if (uid !== undefined) file.uid = asText(uid, child(p, 'uid'))
    const gid = m === undefined ? undefined : get(m, 'gid')
    if (gid !== undefined) file.gid = asText(gid, child(p, 'gid'))
    const mode = m === undefined ? undefined : get(m, 'mode')
    if (mode !== undefined) file.mode = asInt(mode, child(p, 'mode'))
    return { name, file }
  })
}
