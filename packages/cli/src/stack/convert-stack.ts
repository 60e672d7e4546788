/**
 * A merged compose file to everything a stack deploys (docker/cli `compose/convert`): services,
 * the networks they use (`<stack>_default` when a service names none), secrets and configs read
 * from files; every object named `<stack>_<key>` (or its `name:`) and labelled with the
 * namespace. External objects are only named (they must exist). Pure: files are read through
 * the `readFile` you pass.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { ConfigSpec, IpamConfig, NetworkSpec, SecretSpec, ServiceSpec } from '@swarmkit-ts/api'
import type { DeclaredVolume } from './convert-mounts.ts'
import { convertService, DEPRECATION_REASONS, type ServiceContext } from './convert-service.ts'
import type { LookupEnv } from './interpolate.ts'
import { NAMESPACE_LABEL, scoped } from './names.ts'
import { asBool, asMap, asSeq, asString, asStringMap, checkKeys, get } from './read.ts'
import { child, fail, item, type LMap, type LNode } from './tree.ts'

/** A stack's object to create (or keep) with its cluster name. */
export interface StackObject<S> {
  /** The key in the compose file. */
  readonly key: string
  /** Its name in the cluster. */
  readonly name: string
  /** Its spec, labelled with the stack's namespace. */
  readonly spec: S
}

/** Everything a compose file asks a stack for. */
export interface StackSpec {
  /** The stack name (`com.docker.stack.namespace`). */
  readonly namespace: string
  /** Services, sorted by name; secret and config ids are resolved at deploy. */
  readonly services: readonly StackObject<ServiceSpec>[]
  /** Networks the services use, to create when absent. */
  readonly networks: readonly StackObject<NetworkSpec>[]
  /** Names of external networks the services use (they must exist). */
  readonly externalNetworks: readonly string[]
  /** Secrets to create (with their data read from `file:`), or to update when their labels changed. */
  readonly secrets: readonly StackObject<SecretSpec>[]
  /** Names of external secrets the services use (they must exist). */
  readonly externalSecrets: readonly string[]
  /** Configs to create, or to update when their labels changed. */
  readonly configs: readonly StackObject<ConfigSpec>[]
  /** Names of external configs the services use (they must exist). */
  readonly externalConfigs: readonly string[]
  /** What docker would warn about (ignored keys). */
  readonly warnings: readonly string[]
}

/** Options of {@link convertStack}. */
export interface ConvertOptions {
  /** Variables for environment entries without a value. */
  readonly env: LookupEnv
  /** Reads a secret's or config's `file:` or an `env_file` as written (the caller resolves it against the first compose file's folder). */
  readonly readFile: (path: string) => Uint8Array
  /** The folder relative bind mount sources resolve against (the first compose file's). */
  readonly workingDir?: string
}

const TOP_KEYS = ['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs'] as const

/** Checks a stack name: letters, digits, `-` and `_`, starting with a letter or digit (`InvalidArgumentError` on `namespace`). */
export function validateNamespace(namespace: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(namespace)) {
    throw new InvalidArgumentError('namespace', `invalid stack name ${JSON.stringify(namespace)}: letters, digits, '-' and '_', starting with a letter or digit`)
  }
}

/** Converts a merged compose file for stack `namespace`. Throws `ComposeError` (an `InvalidArgumentError`) naming file, line and key. */
export function convertStack(namespace: string, file: LMap, options: ConvertOptions): StackSpec {
  validateNamespace(namespace)
  checkKeys(file, '', TOP_KEYS)
  const label = { [NAMESPACE_LABEL]: namespace }
  const networks = declared(file, 'networks', namespace)
  if (!networks.has('default')) networks.set('default', { key: 'default', name: scoped(namespace, 'default'), external: false, labels: {} })
  const secrets = declared(file, 'secrets', namespace)
  const configs = declared(file, 'configs', namespace)
  const names = (m: Map<string, Declared>): Map<string, string> => new Map([...m].map(([k, d]) => [k, d.name]))
  const volumes = new Map([...declared(file, 'volumes', namespace)].map(([k, d]) => [k, volumeOf(d, label)]))
  const ctx: ServiceContext = {
    namespace,
    env: options.env,
    networks: names(networks),
    secrets: names(secrets),
    configs: names(configs),
    volumes,
    readFile: options.readFile,
    ...(options.workingDir === undefined ? {} : { workingDir: options.workingDir }),
  }

  const servicesNode = get(file, 'services')
  const services: StackObject<ServiceSpec>[] = []
  const usedNetworks = new Set<string>()
  const unsupported = new Set<string>()
  const deprecated = new Set<string>()
  if (servicesNode !== undefined) {
    for (const [key, node] of asMap(servicesNode, 'services').entries) {
      const s = convertService(key, node, ctx)
      services.push({ key, name: s.spec.annotations.name, spec: s.spec })
      s.networkKeys.forEach((k) => usedNetworks.add(k))
      s.unsupported.forEach((k) => unsupported.add(k))
      s.deprecated.forEach((k) => deprecated.add(k))
    }
  }
  const warnings: string[] = []
  if (unsupported.size > 0) warnings.push(`Ignoring unsupported options: ${[...unsupported].sort().join(', ')}`)
  if (deprecated.size > 0) {
    const reasons = [...deprecated].sort().map((k) => `${k}: ${DEPRECATION_REASONS[k as keyof typeof DEPRECATION_REASONS]}`)
    warnings.push(`Ignoring deprecated options:\n\n${reasons.join('\n\n')}\n`)
  }

  const netObjects: StackObject<NetworkSpec>[] = []
  const externalNetworks: string[] = []
  for (const key of [...usedNetworks].sort()) {
    const d = networks.get(key)
    if (d === undefined) continue
    if (d.external) externalNetworks.push(d.name)
    else netObjects.push({ key, name: d.name, spec: networkSpec(d, label) })
  }
  const payload = (d: Declared, kind: string): Uint8Array => {
    const path = child(child(kind, d.key ?? ''), 'file')
    const fileNode = d.node === undefined ? undefined : get(d.node, 'file')
    if (fileNode === undefined) return fail(d.node ?? file, child(kind, d.key ?? ''), 'file or external is required')
    const name = asString(fileNode, path)
    try {
      return options.readFile(name)
    } catch (err) {
      return fail(fileNode, path, `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))}`)
    }
  }
  const secretObjects: StackObject<SecretSpec>[] = []
  const externalSecrets: string[] = []
  for (const [key, d] of [...secrets].sort(byKey)) {
    if (d.external) externalSecrets.push(d.name)
    else secretObjects.push({ key, name: d.name, spec: { annotations: { name: d.name, labels: { ...d.labels, ...label } }, data: payload(d, 'secrets') } })
  }
  const configObjects: StackObject<ConfigSpec>[] = []
  const externalConfigs: string[] = []
  for (const [key, d] of [...configs].sort(byKey)) {
    if (d.external) externalConfigs.push(d.name)
    else configObjects.push({ key, name: d.name, spec: { annotations: { name: d.name, labels: { ...d.labels, ...label } }, data: payload(d, 'configs') } })
  }
  services.sort((a, b) => a.name.localeCompare(b.name))
  return { namespace, services, networks: netObjects, externalNetworks, secrets: secretObjects, externalSecrets, configs: configObjects, externalConfigs, warnings }
}

const byKey = <T>(a: [string, T], b: [string, T]): number => a[0].localeCompare(b[0])

interface Declared {
  readonly key?: string
  readonly name: string
  readonly external: boolean
  readonly labels: Record<string, string>
  readonly node?: LMap
}

const OBJECT_KEYS: Readonly<Record<string, readonly string[]>> = {
  networks: ['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels'],
  secrets: ['name', 'file', 'external', 'labels'],
  configs: ['name', 'file', 'external', 'labels'],
  volumes: ['name', 'driver', 'driver_opts', 'external', 'labels'],
}

/** The top-level networks, secrets or configs: key → name, external flag, labels. */
function declared(file: LMap, kind: 'networks' | 'secrets' | 'configs' | 'volumes', namespace: string): Map<string, Declared> {
  const out = new Map<string, Declared>()
  const node = get(file, kind)
  if (node === undefined) return out
  for (const [key, value] of asMap(node, kind).entries) {
    const path = child(kind, key)
    if (value.kind === 'scalar' && value.value === null) {
      out.set(key, { key, name: scoped(namespace, key), external: false, labels: {} })
      continue
    }
    const m = asMap(value, path)
    checkKeys(m, path, OBJECT_KEYS[kind] ?? [])
    const nameNode = get(m, 'name')
    let name = nameNode === undefined ? undefined : asString(nameNode, child(path, 'name'))
    const ext = get(m, 'external')
    let external = false
    if (ext !== undefined) {
      if (ext.kind === 'map') {
        checkKeys(ext, child(path, 'external'), ['name'])
        const n = get(ext, 'name')
        if (n !== undefined) name = asString(n, child(path, 'external.name'))
        external = true
      } else external = asBool(ext, child(path, 'external'))
    }
    if (external) {
      for (const k of m.entries.keys()) {
        if (k !== 'external' && k !== 'name') fail(m.keyLocs.get(k) ?? m.loc, child(path, k), `conflicts with external: an external ${kind.slice(0, -1)} is not created`)
      }
    } else if ((kind === 'secrets' || kind === 'configs') && get(m, 'file') === undefined) {
      fail(m, path, 'file or external is required')
    }
    const labelsNode = get(m, 'labels')
    const labels: Record<string, string> = {}
    if (labelsNode !== undefined) for (const [k, v] of asStringMap(labelsNode, child(path, 'labels'))) labels[k] = v ?? ''
    out.set(key, { key, name: name ?? (external ? key : scoped(namespace, key)), external, labels, node: m })
  }
  return out
}

function networkSpec(d: Declared, label: Record<string, string>): NetworkSpec {
  const spec: NetworkSpec = { annotations: { name: d.name, labels: { ...d.labels, ...label } }, driverConfig: { name: 'overlay' } }
  const m = d.node
  if (m === undefined) return spec
  const path = child('networks', d.key ?? '')
  const driver = get(m, 'driver')
  const opts = get(m, 'driver_opts')
  const options: Record<string, string> = {}
  if (opts !== undefined) for (const [k, v] of asStringMap(opts, child(path, 'driver_opts'))) options[k] = v ?? ''
  spec.driverConfig = { name: driver === undefined ? 'overlay' : asString(driver, child(path, 'driver')), ...(opts === undefined ? {} : { options }) }
  const internal = get(m, 'internal')
  if (internal !== undefined) spec.internal = asBool(internal, child(path, 'internal'))
  const attachable = get(m, 'attachable')
  if (attachable !== undefined) spec.attachable = asBool(attachable, child(path, 'attachable'))
  const ipam = get(m, 'ipam')
  if (ipam !== undefined) spec.ipam = ipamOf(ipam, child(path, 'ipam'))
  return spec
}

function ipamOf(node: LNode, path: string): NonNullable<NetworkSpec['ipam']> {
  const m = asMap(node, path)
  checkKeys(m, path, ['driver', 'config'])
  const out: NonNullable<NetworkSpec['ipam']> = {}
  const driver = get(m, 'driver')
  if (driver !== undefined) out.driver = { name: asString(driver, child(path, 'driver')) }
  const config = get(m, 'config')
  if (config !== undefined) {
    out.configs = asSeq(config, child(path, 'config')).items.map((x, i) => {
      const p = item(child(path, 'config'), i)
      const c = asMap(x, p)
      checkKeys(c, p, ['subnet', 'ip_range', 'gateway'])
      const cfg: IpamConfig = {}
      const subnet = get(c, 'subnet')
      if (subnet !== undefined) cfg.subnet = asString(subnet, child(p, 'subnet'))
      const r = get(c, 'ip_range')
      if (r !== undefined) cfg.range = asString(r, child(p, 'ip_range'))
      const gw = get(c, 'gateway')
      if (gw !== undefined) cfg.gateway = asString(gw, child(p, 'gateway'))
      return cfg
    })
  }
  return out
}

function volumeOf(d: Declared, label: Record<string, string>): DeclaredVolume {
  const base = { name: d.name, external: d.external, labels: { ...d.labels, ...label } }
  const m = d.node
  if (m === undefined || d.external) return base
  const path = child('volumes', d.key ?? '')
  const driver = get(m, 'driver')
  const opts = get(m, 'driver_opts')
  if (driver === undefined && opts === undefined) return base
  const options: Record<string, string> = {}
  if (opts !== undefined) for (const [k, v] of asStringMap(opts, child(path, 'driver_opts'))) options[k] = v ?? ''
  return { ...base, driver: { name: driver === undefined ? 'local' : asString(driver, child(path, 'driver')), ...(opts === undefined ? {} : { options }) } }
}
