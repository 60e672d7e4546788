/**
 * Docker's `TaskTemplate.ContainerSpec` ⇄ the api's `ContainerSpec`, both ways. Durations are ns
 * in Docker and ms here; empty strings, lists and maps are "unset" (Docker omits them).
 *
 * @module
 */
import { InvalidArgumentError, type ConfigReference, type ContainerSpec, type FileTarget, type HealthConfig, type Mount, type MountType, type Privileges, type SecretReference } from '@swarmkit-ts/api'
import type { JsonFields} from './service-json.ts';
import { compact, nonEmptyList, nonEmptyMap, nsOf } from './service-json.ts'

/** A JSON object as sent to Docker clients. */
export type DockerJson = Record<string, unknown>

const MOUNT_TYPES: readonly MountType[] = ['bind', 'volume', 'tmpfs', 'npipe', 'cluster']
const ISOLATIONS = ['default', 'process', 'hyperv'] as const
const SECCOMP_MODES = ['default', 'unconfined', 'custom'] as const
const APPARMOR_MODES = ['default', 'disabled'] as const

function oneOf<T extends string>(f: JsonFields, key: string, allowed: readonly T[]): T | undefined {
  const v = f.str(key)
  if (v === undefined) return undefined
  if (!(allowed as readonly string[]).includes(v)) throw new InvalidArgumentError(f.at(key), `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`)
  return v as T
}

/** Reads a `Driver` object (`{Name, Options}`). */
export function driverFromDocker(f: JsonFields | undefined): { name: string; options?: Record<string, string> } | undefined {
  if (f === undefined) return undefined
  const name = f.str('Name')
  const options = nonEmptyMap(f.strMap('Options'))
  f.done()
  if (name === undefined) {
    if (options !== undefined) throw new InvalidArgumentError(f.at('Name'), 'is required with Options')
    return undefined
  }
  return compact<{ name: string; options?: Record<string, string> }>({ name, options })
}

/** Writes a `Driver` object. */
export function driverToDocker(d: { readonly name: string; readonly options?: Readonly<Record<string, string>> } | undefined): DockerJson | undefined {
  if (d === undefined) return undefined
  return compact<DockerJson>({ Name: d.name, Options: d.options === undefined ? undefined : { ...d.options } })
}

function mountFromDocker(f: JsonFields): Mount {
  const type = oneOf(f, 'Type', MOUNT_TYPES)
  if (type === undefined) throw new InvalidArgumentError(f.at('Type'), 'is required')
  const target = f.str('Target')
  if (target === undefined) throw new InvalidArgumentError(f.at('Target'), 'is required')
  const consistency = f.str('Consistency')
  if (consistency !== undefined && consistency !== 'default') throw new InvalidArgumentError(f.at('Consistency'), `is not supported by swarmkit-ts (only "default"), got ${JSON.stringify(consistency)}`)
  const bind = f.obj('BindOptions')
  const vol = f.obj('VolumeOptions')
  const tmpfs = f.obj('TmpfsOptions')
  const out = compact<Mount>({
    type,
    target,
    source: f.str('Source'),
    readOnly: f.bool('ReadOnly') === true ? true : undefined,
    bindOptions:
      bind === undefined
        ? undefined
        : compact({ propagation: bind.str('Propagation'), nonRecursive: bind.bool('NonRecursive') === true ? true : undefined }),
    volumeOptions:
      vol === undefined
        ? undefined
        : compact({
            noCopy: vol.bool('NoCopy') === true ? true : undefined,
            labels: nonEmptyMap(vol.strMap('Labels')),
            driverConfig: driverFromDocker(vol.obj('DriverConfig')),
            subpath: vol.str('Subpath'),
          }),
    tmpfsOptions:
      tmpfs === undefined
        ? undefined
        : compact({ sizeBytes: positive(tmpfs.int('SizeBytes')), mode: positive(tmpfs.int('Mode')), options: undefined }),
  })
  for (const o of [bind, vol, tmpfs]) o?.done()
  f.done()
  return out
}

const positive = (n: number | undefined): number | undefined => (n === undefined || n === 0 ? undefined : n)
const trueOnly = (b: boolean | undefined): true | undefined => (b === true ? true : undefined)

function mountToDocker(m: Mount): DockerJson {
  const bind = m.bindOptions
  const vol = m.volumeOptions
  const tmpfs = m.tmpfsOptions
  return compact<DockerJson>({
    Type: m.type,
    Source: m.source,
    Target: m.target,
    ReadOnly: m.readOnly === true ? true : undefined,
    BindOptions: bind === undefined ? undefined : compact<DockerJson>({ Propagation: bind.propagation, NonRecursive: trueOnly(bind.nonRecursive) }),
    VolumeOptions:
      vol === undefined
        ? undefined
        : compact<DockerJson>({ NoCopy: trueOnly(vol.noCopy), Labels: vol.labels === undefined ? undefined : { ...vol.labels }, DriverConfig: driverToDocker(vol.driverConfig), Subpath: vol.subpath }),
    TmpfsOptions: tmpfs === undefined ? undefined : compact<DockerJson>({ SizeBytes: tmpfs.sizeBytes, Mode: tmpfs.mode }),
  })
}

function fileTargetFromDocker(f: JsonFields | undefined): FileTarget | undefined {
  if (f === undefined) return undefined
  const name = f.str('Name')
  if (name === undefined) throw new InvalidArgumentError(f.at('Name'), 'is required')
  const out = compact<FileTarget>({ name, uid: f.str('UID'), gid: f.str('GID'), mode: f.int('Mode') })
  f.done()
  return out
}

function fileTargetToDocker(t: FileTarget): DockerJson {
  // Docker always writes UID, GID and Mode (the api's default mode is 0444).
  return { Name: t.name, UID: t.uid ?? '', GID: t.gid ?? '', Mode: t.mode ?? 0o444 }
}

function secretFromDocker(f: JsonFields): SecretReference {
  const file = fileTargetFromDocker(f.obj('File'))
  const ref = { secretId: f.str('SecretID') ?? '', secretName: f.str('SecretName') ?? '', file: file ?? { name: '' } }
  f.done()
  if (ref.secretId === '' && ref.secretName === '') throw new InvalidArgumentError(f.at('SecretName'), 'a secret reference needs SecretID or SecretName')
  if (file === undefined) throw new InvalidArgumentError(f.at('File'), 'is required (the file the secret is written to)')
  return ref
}

function configFromDocker(f: JsonFields): ConfigReference {
  const file = fileTargetFromDocker(f.obj('File'))
  const runtime = f.obj('Runtime')
  runtime?.done()
  const ref = compact<ConfigReference>({ configId: f.str('ConfigID') ?? '', configName: f.str('ConfigName') ?? '', file, runtime: runtime === undefined ? undefined : {} })
  f.done()
  if (ref.configId === '' && ref.configName === '') throw new InvalidArgumentError(f.at('ConfigName'), 'a config reference needs ConfigID or ConfigName')
  return ref
}

function healthFromDocker(f: JsonFields | undefined): HealthConfig | undefined {
  if (f === undefined) return undefined
  const out = compact<HealthConfig>({
    test: nonEmptyList(f.strList('Test')),
    intervalMs: positive(f.durationMs('Interval')),
    timeoutMs: positive(f.durationMs('Timeout')),
    startPeriodMs: positive(f.durationMs('StartPeriod')),
    startIntervalMs: positive(f.durationMs('StartInterval')),
    retries: positive(f.int('Retries')),
  })
  f.done()
  return out
}

function healthToDocker(h: HealthConfig): DockerJson {
  const ns = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : nsOf(ms))
  return compact<DockerJson>({
    Test: h.test === undefined ? undefined : [...h.test],
    Interval: ns(h.intervalMs),
    Timeout: ns(h.timeoutMs),
    StartPeriod: ns(h.startPeriodMs),
    StartInterval: ns(h.startIntervalMs),
    Retries: h.retries,
  })
}

function privilegesFromDocker(f: JsonFields | undefined): Privileges | undefined {
  if (f === undefined) return undefined
  const cred = f.obj('CredentialSpec')
  const se = f.obj('SELinuxContext')
  const seccomp = f.obj('Seccomp')
  const apparmor = f.obj('AppArmor')
  const credentialSpec = cred === undefined ? undefined : compact({ file: cred.str('File'), registry: cred.str('Registry'), config: cred.str('Config') })
  const seLinuxContext =
    se === undefined ? undefined : compact({ disable: trueOnly(se.bool('Disable')), user: se.str('User'), role: se.str('Role'), type: se.str('Type'), level: se.str('Level') })
  let seccompOut: Privileges['seccomp']
  if (seccomp !== undefined) {
    const mode = oneOf(seccomp, 'Mode', SECCOMP_MODES)
    const profile = seccomp.str('Profile')
    if (mode !== undefined) seccompOut = compact<NonNullable<Privileges['seccomp']>>({ mode, profile: profile === undefined ? undefined : new Uint8Array(Buffer.from(profile, 'base64')) })
  }
  const apparmorMode = apparmor === undefined ? undefined : oneOf(apparmor, 'Mode', APPARMOR_MODES)
  const out = compact<Privileges>({
    credentialSpec: credentialSpec === undefined || Object.keys(credentialSpec).length === 0 ? undefined : credentialSpec,
    seLinuxContext: seLinuxContext === undefined || Object.keys(seLinuxContext).length === 0 ? undefined : seLinuxContext,
    seccomp: seccompOut,
    appArmor: apparmorMode === undefined ? undefined : { mode: apparmorMode },
    noNewPrivileges: trueOnly(f.bool('NoNewPrivileges')),
  })
  for (const o of [cred, se, seccomp, apparmor, f]) o?.done()
  return Object.keys(out).length === 0 ? undefined : out
}

function privilegesToDocker(p: Privileges): DockerJson {
  const c = p.credentialSpec
  const s = p.seLinuxContext
  return compact<DockerJson>({
    CredentialSpec: c === undefined ? undefined : compact<DockerJson>({ File: c.file, Registry: c.registry, Config: c.config }),
    SELinuxContext: s === undefined ? undefined : compact<DockerJson>({ Disable: trueOnly(s.disable), User: s.user, Role: s.role, Type: s.type, Level: s.level }),
    Seccomp: p.seccomp === undefined ? undefined : compact<DockerJson>({ Mode: p.seccomp.mode, Profile: p.seccomp.profile === undefined ? undefined : Buffer.from(p.seccomp.profile).toString('base64') }),
    AppArmor: p.appArmor === undefined ? undefined : { Mode: p.appArmor.mode },
    NoNewPrivileges: trueOnly(p.noNewPrivileges),
  })
}

/**
 * Reads Docker's `ContainerSpec` (at `f.path`). `pidsLimit` comes from `Resources.Limits.Pids` in
 * Docker's model and is set by the caller.
 */
export function containerSpecFromDocker(f: JsonFields): ContainerSpec {
  const dns = f.obj('DNSConfig')
  const dnsConfig =
    dns === undefined ? undefined : compact({ nameservers: nonEmptyList(dns.strList('Nameservers')), search: nonEmptyList(dns.strList('Search')), options: nonEmptyList(dns.strList('Options')) })
  dns?.done()
  const ulimits = f.objList('Ulimits')?.map((u) => {
    const name = u.str('Name')
    if (name === undefined) throw new InvalidArgumentError(u.at('Name'), 'is required')
    const out = { name, soft: u.int('Soft') ?? 0, hard: u.int('Hard') ?? 0 }
    u.done()
    return out
  })
  const image = f.str('Image') ?? ''
  const oomScoreAdj = f.int('OomScoreAdj', -1000)
  const spec = compact<ContainerSpec>({
    image,
    labels: nonEmptyMap(f.strMap('Labels')),
    command: nonEmptyList(f.strList('Command')),
    args: nonEmptyList(f.strList('Args')),
    hostname: f.str('Hostname'),
    env: nonEmptyList(f.strList('Env')),
    dir: f.str('Dir'),
    user: f.str('User'),
    groups: nonEmptyList(f.strList('Groups')),
    privileges: privilegesFromDocker(f.obj('Privileges')),
    init: f.bool('Init'),
    stopSignal: f.str('StopSignal'),
    tty: trueOnly(f.bool('TTY')),
    openStdin: trueOnly(f.bool('OpenStdin')),
    readOnly: trueOnly(f.bool('ReadOnly')),
    mounts: nonEmptyList(f.objList('Mounts')?.map(mountFromDocker)),
    stopGracePeriodMs: f.durationMs('StopGracePeriod'),
    healthcheck: healthFromDocker(f.obj('Healthcheck')),
    hosts: nonEmptyList(f.strList('Hosts')),
    dnsConfig: dnsConfig === undefined || Object.keys(dnsConfig).length === 0 ? undefined : dnsConfig,
    secrets: nonEmptyList(f.objList('Secrets')?.map(secretFromDocker)),
    configs: nonEmptyList(f.objList('Configs')?.map(configFromDocker)),
    isolation: oneOf(f, 'Isolation', ISOLATIONS),
    sysctls: nonEmptyMap(f.strMap('Sysctls')),
    capabilityAdd: nonEmptyList(f.strList('CapabilityAdd')),
    capabilityDrop: nonEmptyList(f.strList('CapabilityDrop')),
    ulimits: nonEmptyList(ulimits),
    oomScoreAdj: oomScoreAdj === 0 ? undefined : oomScoreAdj,
  })
  f.done()
  return spec
}

/** Writes the api's `ContainerSpec` as Docker's (without `pidsLimit`, which Docker keeps in `Resources.Limits.Pids`). */
export function containerSpecToDocker(c: ContainerSpec): DockerJson {
  const copy = <T>(l: readonly T[] | undefined): T[] | undefined => (l === undefined ? undefined : [...l])
  const map = (m: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined => (m === undefined ? undefined : { ...m })
  const dns = c.dnsConfig
  return compact<DockerJson>({
    Image: c.image,
    Labels: map(c.labels),
    Command: copy(c.command),
    Args: copy(c.args),
    Hostname: c.hostname,
    Env: copy(c.env),
    Dir: c.dir,
    User: c.user,
    Groups: copy(c.groups),
    Privileges: c.privileges === undefined ? undefined : privilegesToDocker(c.privileges),
    Init: c.init,
    StopSignal: c.stopSignal,
    TTY: trueOnly(c.tty),
    OpenStdin: trueOnly(c.openStdin),
    ReadOnly: trueOnly(c.readOnly),
    Mounts: c.mounts?.map(mountToDocker),
    StopGracePeriod: c.stopGracePeriodMs === undefined ? undefined : nsOf(c.stopGracePeriodMs),
    Healthcheck: c.healthcheck === undefined ? undefined : healthToDocker(c.healthcheck),
    Hosts: copy(c.hosts),
    DNSConfig: dns === undefined ? undefined : compact<DockerJson>({ Nameservers: copy(dns.nameservers), Search: copy(dns.search), Options: copy(dns.options) }),
    Secrets: c.secrets?.map((s) => ({ File: fileTargetToDocker(s.file), SecretID: s.secretId, SecretName: s.secretName })),
    Configs: c.configs?.map((r) =>
      compact<DockerJson>({ File: r.file === undefined ? undefined : fileTargetToDocker(r.file), Runtime: r.runtime === undefined ? undefined : {}, ConfigID: r.configId, ConfigName: r.configName }),
    ),
    Isolation: c.isolation,
    Sysctls: map(c.sysctls),
    CapabilityAdd: copy(c.capabilityAdd),
    CapabilityDrop: copy(c.capabilityDrop),
    Ulimits: c.ulimits?.map((u) => ({ Name: u.name, Hard: u.hard, Soft: u.soft })),
    OomScoreAdj: c.oomScoreAdj,
  })
}
