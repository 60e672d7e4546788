/**
 * The OCI runtime spec the containerd runtime hands to runc (through the `io.containerd.runc.v2`
 * shim): process args/env/cwd, rlimits, capabilities, the standard Linux mounts plus read-only bind
 * mounts of secret and config files, memory and CPU cgroup limits, and pid/ipc/uts/mount namespaces.
 * There is no network namespace: containers share the host's network, so published ports are host
 * ports (the workload listens on `$PORT`).
 * @internal
 */
import { readFileSync } from 'node:fs'
import type { HostFile } from '../shared/host-files.ts'

/** `google.protobuf.Any` type URL of an OCI runtime spec (JSON bytes). */
export const OCI_SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec'
/** `google.protobuf.Any` type URL of an OCI process spec (JSON bytes), for Tasks.Exec. */
export const OCI_PROCESS_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Process'

/** Docker's default capability set. */
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
]

const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
]
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

/** CFS period used for CPU limits (100 ms), as the contract states. */
export const CPU_PERIOD_US = 100_000

/** Inputs of {@link buildOciSpec}. */
export interface OciSpecInput {
  readonly args: readonly string[]
  readonly env: readonly string[]
  readonly cwd: string
  readonly hostname: string
  readonly files: readonly HostFile[]
  /** Extra read-only bind mounts from the host (e.g. `/etc/hosts` for host networking). */
  readonly hostBinds: readonly string[]
  readonly memoryBytes?: number | undefined
  readonly nanoCpus?: number | undefined
  readonly cgroupsPath: string
  /** Open files limit (soft and hard). @default {@link defaultNofile} */
  readonly nofile?: number
}

/** The open-files limit for containers: 65536, or this process's hard limit when lower (raising it is refused). */
export function defaultNofile(): number {
  try {
    const m = /^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    const hard = m?.[1] === undefined ? Infinity : Number(m[1])
    return Math.min(65_536, hard)
  } catch {
    return 1_024
  }
}

/** A process section (also used alone for health probes through Tasks.Exec). */
export function ociProcess(args: readonly string[], env: readonly string[], cwd: string, nofile = defaultNofile()): Record<string, unknown> {
  return {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: [...args],
    env: [...env],
    cwd,
    capabilities: { bounding: CAPABILITIES, effective: CAPABILITIES, permitted: CAPABILITIES },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
    noNewPrivileges: false,
  }
}

/** Builds the runtime spec (serialised as JSON into Containers.Create's `spec`). */
export function buildOciSpec(input: OciSpecInput): Record<string, unknown> {
  const resources: Record<string, unknown> = { devices: [{ allow: false, access: 'rwm' }] }
  if (input.memoryBytes !== undefined) resources['memory'] = { limit: input.memoryBytes }
  if (input.nanoCpus !== undefined) {
    resources['cpu'] = { quota: Math.round((input.nanoCpus * CPU_PERIOD_US) / 1e9), period: CPU_PERIOD_US }
  }
  const mounts: Record<string, unknown>[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', 'size=65536k'] },
  ]
  for (const path of input.hostBinds) mounts.push({ destination: path, type: 'bind', source: path, options: ['rbind', 'ro'] })
  for (const f of input.files) mounts.push({ destination: f.target, type: 'bind', source: f.source, options: ['rbind', 'ro'] })
  return {
    ociVersion: '1.0.2-dev',
    process: ociProcess(input.args, input.env, input.cwd, input.nofile),
    root: { path: 'rootfs', readonly: false },
    hostname: input.hostname,
    mounts,
    linux: {
      resources,
      cgroupsPath: input.cgroupsPath,
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  }
}

/** Environment entries as `KEY=value` strings, later entries overriding earlier keys. */
export function mergeEnv(base: readonly string[], extra: Readonly<Record<string, string>>): string[] {
  const map = new Map<string, string>()
  for (const kv of base) {
    const eq = kv.indexOf('=')
    map.set(eq === -1 ? kv : kv.slice(0, eq), eq === -1 ? '' : kv.slice(eq + 1))
  }
  for (const [k, v] of Object.entries(extra)) map.set(k, v)
  return [...map].map(([k, v]) => `${k}=${v}`)
}
