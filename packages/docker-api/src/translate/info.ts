/**
 * `GET /info`: Docker's `types.Info` for a manager — the engine fields `docker info` prints (from
 * this machine and the cluster's tasks) and the `Swarm` section (this node, the managers, the
 * cluster).
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { arch, cpus, hostname, release, totalmem } from 'node:os'
import { TaskState, type Cluster, type Node, type Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { EngineIdentity } from '../context.ts'
import { clusterInfoToDocker, type DockerClusterInfo } from './swarm.ts'

/** Docker's `swarm.Info` (the `Swarm` section of `/info`). */
export interface DockerSwarmInfo {
  NodeID: string
  NodeAddr: string
  LocalNodeState: 'active' | 'locked' | 'inactive' | 'pending' | 'error'
  ControlAvailable: boolean
  Error: string
  RemoteManagers: { NodeID: string; Addr: string }[]
  Nodes: number
  Managers: number
  Cluster?: DockerClusterInfo
}

/** What {@link infoToDocker} is built from. */
export interface InfoSources {
  /** This manager's node id. */
  readonly nodeId: string
  /** This manager's address (`host:port`). */
  readonly address: string
  readonly nodes: readonly Frozen<Node>[]
  readonly tasks: readonly Frozen<Task>[]
  readonly cluster: Frozen<Cluster>
  readonly engine: EngineIdentity
  /** `PRETTY_NAME` of /etc/os-release, when known. */
  readonly operatingSystem?: string
}

const ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x' }

/** The host part of `host:port` (brackets of an IPv6 address removed). */
export function hostOf(address: string): string {
  const i = address.lastIndexOf(':')
  const host = i < 0 ? address : address.slice(0, i)
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** `PRETTY_NAME` of /etc/os-release, or undefined. */
export async function operatingSystem(): Promise<string | undefined> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '')
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)
  return m?.[1]
}

/** The `Swarm` section of `/info`. */
export function swarmInfoToDocker(src: InfoSources): DockerSwarmInfo {
  const managers = src.nodes.filter((n) => n.managerStatus !== undefined)
  return {
    NodeID: src.nodeId,
    NodeAddr: hostOf(src.address),
    LocalNodeState: 'active',
    ControlAvailable: true,
    Error: '',
    RemoteManagers: managers.map((n) => ({ NodeID: n.id, Addr: n.managerStatus?.addr ?? '' })),
    Nodes: src.nodes.length,
    Managers: managers.length,
    Cluster: clusterInfoToDocker(src.cluster),
  }
}

/** Docker's `types.Info` of a manager. */
export function infoToDocker(src: InfoSources): Record<string, unknown> {
  const live = src.tasks.filter((t) => t.desiredState <= TaskState.RUNNING || t.status.state <= TaskState.RUNNING)
  const running = live.filter((t) => t.status.state === TaskState.RUNNING).length
  const self = src.nodes.find((n) => n.id === src.nodeId)
  return {
    ID: src.nodeId,
    Containers: live.length,
    ContainersRunning: running,
    ContainersPaused: 0,
    ContainersStopped: live.length - running,
    Images: 0,
    Driver: '',
    DriverStatus: [],
    Plugins: { Volume: [], Network: ['overlay'], Authorization: null, Log: [] },
    // Host capabilities of a single engine do not apply to a cluster: reported as present, so the
    // CLI prints no host warnings (each node's runtime enforces what it can).
    MemoryLimit: true,
    SwapLimit: true,
    KernelMemory: false,
    KernelMemoryTCP: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    BridgeNfIptables: true,
    BridgeNfIp6tables: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: true,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: '',
    CgroupDriver: '',
    CgroupVersion: '',
    NEventsListener: 0,
    KernelVersion: release(),
    OperatingSystem: src.operatingSystem ?? 'linux',
    OSVersion: '',
    OSType: 'linux',
    Architecture: ARCH[arch()] ?? arch(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: null,
    NCPU: cpus().length,
    MemTotal: totalmem(),
    GenericResources: null,
    DockerRootDir: '',
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: self?.description?.hostname ?? hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: src.engine.version,
    Runtimes: {},
    DefaultRuntime: '',
    Swarm: swarmInfoToDocker(src),
    LiveRestoreEnabled: false,
    Isolation: '',
    InitBinary: '',
    ContainerdCommit: { ID: '', Expected: '' },
    RuncCommit: { ID: '', Expected: '' },
    InitCommit: { ID: '', Expected: '' },
    SecurityOptions: [],
    Warnings: [],
  }
}
