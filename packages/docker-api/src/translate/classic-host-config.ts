/**
 * `HostConfig` of a classic container: which fields map onto a task spec, which are accepted at
 * their zero value only, and the mounts (`Binds`, `Mounts`).
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { Mount } from '@swarmkit-ts/api'
import { booleanAt, checkFields, integerAt, objectAt, stringAt, stringsAt, type FieldRule } from './classic-fields.ts'

const cgroup = (what: string): FieldRule => ({ zeroOnly: `${what} (the cluster sets resources with Memory, NanoCpus and MemoryReservation)` })

/** The rule of every `HostConfig` field of API 1.41 (and of newer CLIs' defaults). */
export const hostConfigRules: Readonly<Record<string, FieldRule>> = {
  Binds: 'mapped',
  ContainerIDFile: 'ignored',
  LogConfig: 'mapped',
  NetworkMode: 'mapped',
  PortBindings: 'mapped',
  RestartPolicy: 'mapped',
  AutoRemove: 'mapped',
  VolumeDriver: { zeroOnly: 'a volume driver' },
  VolumesFrom: { zeroOnly: 'volumes from another container' },
  ConsoleSize: 'ignored',
  Annotations: { zeroOnly: 'container annotations' },
  CapAdd: 'mapped',
  CapDrop: 'mapped',
  CgroupnsMode: { zeroOnly: 'a cgroup namespace mode' },
  Dns: 'mapped',
  DnsOptions: 'mapped',
  DnsSearch: 'mapped',
  ExtraHosts: 'mapped',
  GroupAdd: 'mapped',
  IpcMode: { zeroOnly: 'an IPC mode' },
  Cgroup: { zeroOnly: 'a cgroup' },
  Links: { zeroOnly: 'links (attach both containers to an overlay network)' },
  OomScoreAdj: 'mapped',
  PidMode: { zeroOnly: 'a PID mode' },
  Privileged: { zeroOnly: 'privileged containers' },
  PublishAllPorts: { zeroOnly: 'publishing every exposed port (-P); publish ports one by one (-p)' },
  ReadonlyRootfs: 'mapped',
  SecurityOpt: { zeroOnly: 'security options' },
  StorageOpt: { zeroOnly: 'storage options' },
  Tmpfs: { zeroOnly: '--tmpfs (use --mount type=tmpfs)' },
  UTSMode: { zeroOnly: 'a UTS mode' },
  UsernsMode: { zeroOnly: 'a user namespace mode' },
  ShmSize: { zeroOnly: 'a /dev/shm size' },
  Sysctls: 'mapped',
  Runtime: { zeroOnly: 'an OCI runtime' },
  Isolation: { zeroOnly: 'an isolation technology' },
  CpuShares: cgroup('CPU shares'),
  Memory: 'mapped',
  NanoCpus: 'mapped',
  CgroupParent: cgroup('a cgroup parent'),
  BlkioWeight: cgroup('block IO weights'),
  BlkioWeightDevice: cgroup('block IO weights'),
  BlkioDeviceReadBps: cgroup('block IO limits'),
  BlkioDeviceWriteBps: cgroup('block IO limits'),
  BlkioDeviceReadIOps: cgroup('block IO limits'),
  BlkioDeviceWriteIOps: cgroup('block IO limits'),
  CpuPeriod: cgroup('a CPU period'),
  CpuQuota: cgroup('a CPU quota (use --cpus)'),
  CpuRealtimePeriod: cgroup('a realtime CPU period'),
  CpuRealtimeRuntime: cgroup('a realtime CPU runtime'),
  CpusetCpus: cgroup('CPU sets'),
  CpusetMems: cgroup('memory node sets'),
  Devices: { zeroOnly: 'devices' },
  DeviceCgroupRules: { zeroOnly: 'device cgroup rules' },
  DeviceRequests: { zeroOnly: 'device requests (GPUs)' },
  KernelMemory: cgroup('kernel memory limits'),
  KernelMemoryTCP: cgroup('kernel TCP memory limits'),
  MemoryReservation: 'mapped',
  MemorySwap: { zeroOnly: 'a swap limit' },
  MemorySwappiness: 'mapped',
  OomKillDisable: { zeroOnly: 'disabling the OOM killer' },
  PidsLimit: 'mapped',
  Ulimits: 'mapped',
  CpuCount: cgroup('a CPU count (Windows)'),
  CpuPercent: cgroup('a CPU percent (Windows)'),
  IOMaximumIOps: cgroup('IO limits (Windows)'),
  IOMaximumBandwidth: cgroup('IO limits (Windows)'),
  Mounts: 'mapped',
  MaskedPaths: { zeroOnly: 'masked paths' },
  ReadonlyPaths: { zeroOnly: 'read-only paths' },
  Init: 'mapped',
}

/** `HostConfig.Binds` (`/host:/container[:ro|rw]`) as bind mounts; named volumes are refused. */
export function readBinds(v: unknown): Mount[] {
  return stringsAt(v, 'HostConfig.Binds').map((b, i) => {
    const at = `HostConfig.Binds[${i}]`
    const parts = b.split(':')
    const [source = '', target = '', mode = ''] = parts
    if (parts.length < 2 || parts.length > 3 || target === '') throw new InvalidArgumentError(at, `${JSON.stringify(b)} must be /host/path:/container/path[:ro]`)
    if (!source.startsWith('/')) throw new InvalidArgumentError(at, `named volumes are not supported by swarmkit-ts: ${JSON.stringify(b)} (bind an absolute host path)`)
    const options = mode === '' ? [] : mode.split(',')
    for (const o of options) if (o !== 'ro' && o !== 'rw') throw new InvalidArgumentError(at, `mount option ${JSON.stringify(o)} is not supported by swarmkit-ts (ro or rw)`)
    return { type: 'bind', source, target, ...(options.includes('ro') ? { readOnly: true } : {}) }
  })
}

/** `HostConfig.Mounts` (`--mount`): bind, volume and tmpfs mounts with their common options. */
export function readMounts(v: unknown): Mount[] {
  if (v === null || v === undefined) return []
  if (!Array.isArray(v)) throw new InvalidArgumentError('HostConfig.Mounts', 'must be a list of mounts')
  return v.map((raw, i) => {
    const at = `HostConfig.Mounts[${i}]`
    const m = objectAt(raw, at)
    checkFields(
      m,
      {
        Type: 'mapped',
        Source: 'mapped',
        Target: 'mapped',
        ReadOnly: 'mapped',
        Consistency: 'ignored',
        BindOptions: { zeroOnly: 'bind options' },
        VolumeOptions: { zeroOnly: 'volume options' },
        TmpfsOptions: 'mapped',
        ClusterOptions: { zeroOnly: 'cluster volumes' },
      },
      at,
    )
    const type = stringAt(m['Type'], `${at}.Type`)
    if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new InvalidArgumentError(`${at}.Type`, `mount type ${JSON.stringify(type)} is not supported by swarmkit-ts (bind, volume, tmpfs)`)
    const target = stringAt(m['Target'], `${at}.Target`)
    if (target === '') throw new InvalidArgumentError(`${at}.Target`, 'a target path is required')
    const source = stringAt(m['Source'], `${at}.Source`)
    const tmpfs = objectAt(m['TmpfsOptions'], `${at}.TmpfsOptions`)
    checkFields(tmpfs, { SizeBytes: 'mapped', Mode: 'mapped' }, `${at}.TmpfsOptions`)
    const size = integerAt(tmpfs['SizeBytes'], `${at}.TmpfsOptions.SizeBytes`)
    const mode = integerAt(tmpfs['Mode'], `${at}.TmpfsOptions.Mode`)
    if (type !== 'tmpfs' && (size !== 0 || mode !== 0)) throw new InvalidArgumentError(`${at}.TmpfsOptions`, 'only for a tmpfs mount')
    return {
      type,
      target,
      ...(source === '' ? {} : { source }),
      ...(booleanAt(m['ReadOnly'], `${at}.ReadOnly`) ? { readOnly: true } : {}),
      ...(size !== 0 || mode !== 0 ? { tmpfsOptions: { ...(size !== 0 ? { sizeBytes: size } : {}), ...(mode !== 0 ? { mode } : {}) } } : {}),
    }
  })
}
