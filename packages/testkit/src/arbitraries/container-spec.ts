import fc from 'fast-check'
import type {
  ConfigReference,
  ContainerSpec,
  DnsConfig,
  FileTarget,
  HealthConfig,
  Mount,
  Privileges,
  SecretReference,
  Ulimit,
} from '@swarmkit-ts/api'
import { arbBytes, arbDriver, arbId, arbIpv4, arbLabels, arbNat, arbSecretName, arbText, arbWord, charsOf, items, rec } from './primitives.ts'

/** An image reference such as `nginx`, `library/redis:7` or `registry.local:5000/app@sha256:…` (no whitespace). */
export function arbImage(): fc.Arbitrary<string> {
  const repo = fc.array(arbWord(), { minLength: 1, maxLength: 3 }).map((p) => p.join('/'))
  const tag = fc.oneof(fc.constant(''), arbWord().map((t) => `:${t}`), charsOf('0123456789abcdef'.split(''), 64, 64).map((h) => `@sha256:${h}`))
  const registry = fc.oneof(fc.constant(''), fc.constant('registry.local:5000/'), fc.constant('docker.io/'))
  return fc.tuple(registry, repo, tag).map(([r, p, t]) => r + p + t)
}

/** An absolute path such as `/data` or `/var/lib/app`. */
export function arbAbsolutePath(): fc.Arbitrary<string> {
  return fc.array(arbWord(), { minLength: 1, maxLength: 3 }).map((p) => `/${p.join('/')}`)
}

/** A Unix file mode in [0, 0o7777]. */
function arbFileMode(): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(0o444, 0o400, 0o644, 0o7777, 0), fc.integer({ min: 0, max: 0o7777 }))
}

/** A valid {@link Mount}: absolute target; bind mounts have a source; options match the type. */
export function arbMount(): fc.Arbitrary<Mount> {
  const bind = rec<Pick<Mount, 'type' | 'source' | 'target' | 'readOnly' | 'bindOptions'>>(
    {
      type: fc.constant('bind'),
      source: arbAbsolutePath(),
      target: arbAbsolutePath(),
      readOnly: fc.boolean(),
      bindOptions: rec<NonNullable<Mount['bindOptions']>>({ propagation: fc.constantFrom('rprivate', 'shared', 'slave'), nonRecursive: fc.boolean() }, []),
    },
    ['type', 'source', 'target'],
  )
  const volume = rec<Pick<Mount, 'type' | 'source' | 'target' | 'readOnly' | 'volumeOptions'>>(
    {
      type: fc.constant('volume'),
      source: arbWord(),
      target: arbAbsolutePath(),
      readOnly: fc.boolean(),
      volumeOptions: rec<NonNullable<Mount['volumeOptions']>>({ noCopy: fc.boolean(), labels: arbLabels(), driverConfig: arbDriver(), subpath: arbWord() }, []),
    },
    ['type', 'target'],
  )
  const tmpfs = rec<Pick<Mount, 'type' | 'target' | 'readOnly' | 'tmpfsOptions'>>(
    {
      type: fc.constant('tmpfs'),
      target: arbAbsolutePath(),
      readOnly: fc.boolean(),
      tmpfsOptions: rec<NonNullable<Mount['tmpfsOptions']>>({ sizeBytes: arbNat(), mode: arbFileMode(), options: arbWord() }, []),
    },
    ['type', 'target'],
  )
  const other = rec<Pick<Mount, 'type' | 'source' | 'target' | 'readOnly'>>(
    { type: fc.constantFrom('npipe', 'cluster'), source: arbWord(), target: arbAbsolutePath(), readOnly: fc.boolean() },
    ['type', 'target'],
  )
  return fc.oneof<fc.Arbitrary<Mount>[]>(bind, volume, tmpfs, other)
}

/** A {@link FileTarget} with a non-empty name and a mode in [0, 0o7777] when set. */
export function arbFileTarget(): fc.Arbitrary<FileTarget> {
  return rec<FileTarget>({ name: arbSecretName(), uid: fc.constantFrom('0', '1000'), gid: fc.constantFrom('0', '1000'), mode: arbFileMode() }, ['name'])
}

/** A valid {@link SecretReference}. */
export function arbSecretReference(): fc.Arbitrary<SecretReference> {
  return rec<SecretReference>({ secretId: arbId(), secretName: arbSecretName(), file: arbFileTarget() }, ['secretId', 'secretName', 'file'])
}

/** A valid {@link ConfigReference}: exactly one of `file` and `runtime`. */
export function arbConfigReference(): fc.Arbitrary<ConfigReference> {
  const asFile = fc
    .tuple(arbId(), arbSecretName(), arbFileTarget())
    .map(([configId, configName, file]): ConfigReference => ({ configId, configName, file }))
  const asRuntime = fc.tuple(arbId(), arbSecretName()).map(([configId, configName]): ConfigReference => ({ configId, configName, runtime: {} }))
  return fc.oneof({ arbitrary: asFile, weight: 3 }, { arbitrary: asRuntime, weight: 1 })
}

/** A valid {@link HealthConfig}: non-negative durations and retries. */
export function arbHealthConfig(): fc.Arbitrary<HealthConfig> {
  const test = fc.oneof(
    fc.constant(['NONE']),
    fc.tuple(fc.constant('CMD'), items(arbWord())).map(([c, args]) => [c, ...args]),
    arbText().map((cmd) => ['CMD-SHELL', cmd]),
  )
  return rec<HealthConfig>(
    { test, intervalMs: arbNat(), timeoutMs: arbNat(), retries: arbNat(), startPeriodMs: arbNat(), startIntervalMs: arbNat() },
    [],
  )
}

function arbPrivileges(): fc.Arbitrary<Privileges> {
  return rec<Privileges>(
    {
      credentialSpec: fc.oneof(
        arbWord().map((file) => ({ file })),
        arbWord().map((registry) => ({ registry })),
        arbWord().map((config) => ({ config })),
      ),
      seLinuxContext: rec<NonNullable<Privileges['seLinuxContext']>>(
        { disable: fc.boolean(), user: arbWord(), role: arbWord(), type: arbWord(), level: arbWord() },
        [],
      ),
      seccomp: fc.oneof(
        fc.constantFrom('default', 'unconfined').map((mode) => ({ mode })),
        arbBytes(1).map((profile) => ({ mode: 'custom' as const, profile })),
      ),
      appArmor: fc.constantFrom('default', 'disabled').map((mode) => ({ mode })),
      noNewPrivileges: fc.boolean(),
    },
    [],
  )
}

function arbUlimit(): fc.Arbitrary<Ulimit> {
  return fc
    .tuple(fc.constantFrom('nofile', 'nproc', 'core'), arbNat(), arbNat())
    .map(([name, a, b]) => ({ name, soft: Math.min(a, b), hard: Math.max(a, b) }))
}

function arbDnsConfig(): fc.Arbitrary<DnsConfig> {
  return rec<DnsConfig>({ nameservers: items(arbIpv4()), search: items(arbWord()), options: items(fc.constantFrom('ndots:2', 'timeout:3', 'rotate')) }, [])
}

/** A valid {@link ContainerSpec} exercising most optional fields. */
export function arbContainerSpec(): fc.Arbitrary<ContainerSpec> {
  return rec<ContainerSpec>(
    {
      image: arbImage(),
      labels: arbLabels(),
      command: items(arbWord()),
      args: items(arbText()),
      hostname: arbWord(),
      env: items(fc.tuple(arbWord(), arbText()).map(([k, v]) => `${k.toUpperCase()}=${v}`)),
      dir: arbAbsolutePath(),
      user: fc.constantFrom('root', '1000', 'nobody:nogroup'),
      groups: items(arbWord()),
      privileges: arbPrivileges(),
      init: fc.boolean(),
      tty: fc.boolean(),
      openStdin: fc.boolean(),
      readOnly: fc.boolean(),
      stopSignal: fc.constantFrom('SIGTERM', 'SIGINT', 'SIGKILL'),
      mounts: items(arbMount()),
      stopGracePeriodMs: arbNat(),
      pullOptions: rec<NonNullable<ContainerSpec['pullOptions']>>({ registryAuth: arbText() }, []),
      secrets: items(arbSecretReference()),
      configs: items(arbConfigReference()),
      hosts: items(fc.tuple(arbIpv4(), arbWord()).map(([ip, h]) => `${ip} ${h}`)),
      dnsConfig: arbDnsConfig(),
      healthcheck: arbHealthConfig(),
      isolation: fc.constantFrom('default', 'process', 'hyperv'),
      pidsLimit: arbNat(),
      sysctls: arbLabels(),
      capabilityAdd: items(fc.constantFrom('CAP_NET_ADMIN', 'CAP_SYS_TIME', 'CAP_CHOWN')),
      capabilityDrop: items(fc.constantFrom('CAP_MKNOD', 'CAP_NET_RAW')),
      ulimits: items(arbUlimit()),
      oomScoreAdj: fc.integer({ min: -1000, max: 1000 }),
    },
    ['image'],
  )
}
