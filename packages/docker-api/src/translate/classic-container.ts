/**
 * A classic container as Docker shows it: the `GET /containers/json` summary and the
 * `GET /containers/{id}/json` inspect document, from its service, tasks and node. Names are
 * node-prefixed in lists (`/node-1/web`) and the inspect document carries a `Node` section, as
 * Swarm classic showed them.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { Node, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { CLASSIC_AUTO_REMOVE_LABEL } from './classic-create.ts'
import { classicState, statusText, type ClassicState } from './classic-state.ts'
import { dockerTime } from './meta.ts'

/** A synthetic image id for an image reference (nodes resolve images themselves; no digest is known). */
export function imageId(ref: string): string {
  return `sha256:${createHash('sha256').update(ref).digest('hex')}`
}

/** The container's `Config` (the create request's fields that map), from its service spec. */
export function containerConfig(service: Frozen<Service>): Record<string, unknown> {
  const c = service.spec.task.container
  const h = c?.healthcheck
  return {
    Hostname: c?.hostname ?? '',
    Domainname: '',
    User: c?.user ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c?.env === undefined ? null : [...c.env],
    Cmd: c?.args === undefined ? null : [...c.args],
    Image: c?.image ?? '',
    Volumes: null,
    WorkingDir: c?.dir ?? '',
    Entrypoint: c?.command === undefined ? null : [...c.command],
    OnBuild: null,
    Labels: { ...(c?.labels ?? {}) },
    ...(c?.stopSignal === undefined ? {} : { StopSignal: c.stopSignal }),
    ...(c?.stopGracePeriodMs === undefined ? {} : { StopTimeout: Math.floor(c.stopGracePeriodMs / 1000) }),
    ...(h === undefined
      ? {}
      : {
          Healthcheck: {
            ...(h.test === undefined ? {} : { Test: [...h.test] }),
            ...(h.intervalMs === undefined ? {} : { Interval: h.intervalMs * 1e6 }),
            ...(h.timeoutMs === undefined ? {} : { Timeout: h.timeoutMs * 1e6 }),
            ...(h.startPeriodMs === undefined ? {} : { StartPeriod: h.startPeriodMs * 1e6 }),
            ...(h.startIntervalMs === undefined ? {} : { StartInterval: h.startIntervalMs * 1e6 }),
            ...(h.retries === undefined ? {} : { Retries: h.retries }),
          },
        }),
  }
}

function restartPolicy(service: Frozen<Service>): { Name: string; MaximumRetryCount: number } {
  const r = service.spec.task.restart
  switch (r?.condition) {
    case 'none':
      return { Name: 'no', MaximumRetryCount: 0 }
    case 'on-failure':
      return { Name: 'on-failure', MaximumRetryCount: r.maxAttempts ?? 0 }
    default:
      return { Name: 'always', MaximumRetryCount: 0 }
  }
}

function portBindings(service: Frozen<Service>): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {}
  for (const p of service.spec.endpoint?.ports ?? []) {
    const key = `${p.targetPort}/${p.protocol ?? 'tcp'}`
    ;(out[key] ??= []).push({ HostIp: '', HostPort: p.publishedPort === undefined ? '' : String(p.publishedPort) })
  }
  return out
}

/** The container's `HostConfig`: what its task spec maps to. */
export function hostConfig(service: Frozen<Service>): Record<string, unknown> {
  const t = service.spec.task
  const c = t.container
  const networks = t.networks ?? []
  return {
    Binds: (c?.mounts ?? []).filter((m) => m.type === 'bind').map((m) => `${m.source ?? ''}:${m.target}${m.readOnly === true ? ':ro' : ''}`),
    NetworkMode: networks[0]?.target ?? 'default',
    PortBindings: portBindings(service),
    RestartPolicy: restartPolicy(service),
    AutoRemove: service.spec.annotations.labels?.[CLASSIC_AUTO_REMOVE_LABEL] === 'true',
    LogConfig: { Type: t.logDriver?.name ?? '', Config: { ...(t.logDriver?.options ?? {}) } },
    CapAdd: c?.capabilityAdd === undefined ? null : [...c.capabilityAdd],
    CapDrop: c?.capabilityDrop === undefined ? null : [...c.capabilityDrop],
    Dns: [...(c?.dnsConfig?.nameservers ?? [])],
    DnsOptions: [...(c?.dnsConfig?.options ?? [])],
    DnsSearch: [...(c?.dnsConfig?.search ?? [])],
    ExtraHosts: c?.hosts === undefined ? null : c.hosts.map((h) => h.split(/\s+/).reverse().join(':')),
    GroupAdd: c?.groups === undefined ? null : [...c.groups],
    OomScoreAdj: c?.oomScoreAdj ?? 0,
    Privileged: false,
    ReadonlyRootfs: c?.readOnly ?? false,
    Sysctls: c?.sysctls === undefined ? undefined : { ...c.sysctls },
    Memory: t.resources?.limits?.memoryBytes ?? 0,
    NanoCpus: t.resources?.limits?.nanoCpus ?? 0,
    MemoryReservation: t.resources?.reservations?.memoryBytes ?? 0,
    MemorySwappiness: t.resources?.memorySwappiness ?? null,
    PidsLimit: c?.pidsLimit ?? null,
    Ulimits: c?.ulimits === undefined ? null : c.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
    Mounts: (c?.mounts ?? [])
      .filter((m) => m.type !== 'bind')
      .map((m) => ({ Type: m.type, ...(m.source === undefined ? {} : { Source: m.source }), Target: m.target, ...(m.readOnly === true ? { ReadOnly: true } : {}) })),
    Init: c?.init ?? null,
  }
}

/** Ports of a running container as `docker ps` lists them. */
function ports(task: Frozen<Task> | undefined, running: boolean): { IP: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
  if (task === undefined || !running) return []
  return (task.status.portStatus?.ports ?? []).map((p) => ({ IP: '0.0.0.0', PrivatePort: p.targetPort, ...(p.publishedPort === undefined ? {} : { PublicPort: p.publishedPort }), Type: p.protocol ?? 'tcp' }))
}

/** The container's names as classic listed them: `/<node>/<name>` once scheduled, else `/<name>`. */
export function containerNames(service: Frozen<Service>, node: Frozen<Node> | undefined): string[] {
  const host = node?.description?.hostname ?? ''
  return [host === '' ? `/${service.spec.annotations.name}` : `/${host}/${service.spec.annotations.name}`]
}

function commandLine(service: Frozen<Service>): string {
  const c = service.spec.task.container
  return [...(c?.command ?? []), ...(c?.args ?? [])].join(' ')
}

/** A `GET /containers/json` entry. */
export function containerSummary(service: Frozen<Service>, state: ClassicState, node: Frozen<Node> | undefined, now: number): Record<string, unknown> {
  const image = service.spec.task.container?.image ?? ''
  const network = service.spec.task.networks?.[0]?.target ?? 'default'
  return {
    Id: service.id,
    Names: containerNames(service, node),
    Image: image,
    ImageID: imageId(image),
    Command: commandLine(service),
    Created: Math.floor(service.meta.createdAt / 1000),
    Ports: ports(state.task, state.running),
    Labels: { ...(service.spec.task.container?.labels ?? {}) },
    State: state.status,
    Status: statusText(state, now),
    HostConfig: { NetworkMode: network },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  }
}

/** Classic's `Node` section of an inspect document. */
export function nodeSection(node: Frozen<Node> | undefined): Record<string, unknown> | undefined {
  if (node === undefined) return undefined
  const addr = node.status.addr ?? ''
  return {
    ID: node.id,
    IP: addr.replace(/:\d+$/, ''),
    Addr: addr,
    Name: node.description?.hostname ?? node.id,
    Cpus: Math.floor((node.description?.resources?.nanoCpus ?? 0) / 1e9),
    Memory: node.description?.resources?.memoryBytes ?? 0,
    Labels: { ...(node.spec.annotations.labels ?? {}) },
  }
}

/** `NetworkSettings.Ports` of a running container (`docker port`): `"80/tcp": [{HostIp, HostPort}]`. */
function publishedPorts(state: ClassicState): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {}
  for (const p of ports(state.task, state.running)) if (p.PublicPort !== undefined) (out[`${p.PrivatePort}/${p.Type}`] ??= []).push({ HostIp: p.IP, HostPort: String(p.PublicPort) })
  return out
}

/** The `GET /containers/{id}/json` document. */
export function containerInspect(service: Frozen<Service>, tasks: readonly Frozen<Task>[], node: Frozen<Node> | undefined): Record<string, unknown> {
  const state = classicState(service, tasks)
  const c = service.spec.task.container
  const argv = [...(c?.command ?? []), ...(c?.args ?? [])]
  const section = nodeSection(node)
  return {
    Id: service.id,
    Created: dockerTime(service.meta.createdAt),
    Path: argv[0] ?? '',
    Args: argv.slice(1),
    State: {
      Status: state.status,
      Running: state.running,
      Paused: false,
      Restarting: state.restarting,
      OOMKilled: false,
      Dead: state.status === 'dead',
      Pid: state.pid,
      ExitCode: state.exitCode,
      Error: state.error,
      StartedAt: state.startedAt,
      FinishedAt: state.finishedAt,
    },
    Image: imageId(c?.image ?? ''),
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: '',
    ...(section === undefined ? {} : { Node: section }),
    Name: `/${service.spec.annotations.name}`,
    RestartCount: state.restartCount,
    Driver: '',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: hostConfig(service),
    GraphDriver: { Data: null, Name: '' },
    Mounts: (c?.mounts ?? []).map((m) => ({ Type: m.type, Source: m.source ?? '', Destination: m.target, Mode: m.readOnly === true ? 'ro' : '', RW: m.readOnly !== true, Propagation: '' })),
    Config: containerConfig(service),
    NetworkSettings: { Bridge: '', SandboxID: '', Ports: publishedPorts(state), Networks: {} },
  }
}
