/**
 * Translation between our {@link RuntimeContainerSpec} / {@link ContainerInfo} and Docker's container
 * create body / inspect document.
 * @internal
 */
import type { HostFile } from '../shared/host-files.ts'
import { INTERNAL_LABEL_PREFIX, publicLabels } from '../shared/internal-labels.ts'
import { dockerTime } from './docker-wire.ts'
import type { ContainerInfo, RuntimeContainerSpec, RuntimeNetworkAttachment, PublishedPort } from '../runtime.ts'
import { HEALTHCHECK_DEFAULTS } from '../shared/spec-validation.ts'

/** Internal labels the Docker runtime puts on its containers. */
export const DOCKER_LABEL = {
  instance: `${INTERNAL_LABEL_PREFIX}instance`,
  named: `${INTERNAL_LABEL_PREFIX}named`,
  ports: `${INTERNAL_LABEL_PREFIX}ports`,
  files: `${INTERNAL_LABEL_PREFIX}files`,
} as const

/** The parts of Docker's `GET /containers/{id}/json` the runtime reads. */
export interface DockerInspect {
  Id: string
  Name?: string
  Created?: string
  Config?: { Image?: string; Labels?: Record<string, string> | null }
  State?: {
    Status?: string
    ExitCode?: number
    Error?: string
    StartedAt?: string
    FinishedAt?: string
    Health?: { Status?: string }
  }
}

const MS = 1_000_000

/** Docker's create body for a spec. */
export function dockerCreateBody(
  spec: RuntimeContainerSpec,
  ctx: { instance: string; files: readonly HostFile[]; filesDir: string | undefined; ports: readonly PublishedPort[]; networkMode: string },
): Record<string, unknown> {
  const env = Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`)
  const firstNetwork = spec.networks?.[0]
  const first = ctx.ports[0]
  // On the host's network the workload listens on the host port; in its own namespace on the target.
  if (first !== undefined && spec.env?.['PORT'] === undefined) env.push(`PORT=${firstNetwork === undefined ? first.published : first.target}`)
  const labels: Record<string, string> = { ...(spec.labels ?? {}), [DOCKER_LABEL.instance]: ctx.instance }
  if (spec.name !== undefined) labels[DOCKER_LABEL.named] = 'true'
  if (ctx.ports.length > 0) labels[DOCKER_LABEL.ports] = JSON.stringify(ctx.ports)
  if (ctx.filesDir !== undefined) labels[DOCKER_LABEL.files] = ctx.filesDir
  const body: Record<string, unknown> = {
    Image: spec.image,
    Env: env,
    Labels: labels,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    HostConfig: {
      NetworkMode: firstNetwork?.network ?? ctx.networkMode,
      ...(firstNetwork !== undefined && ctx.ports.length > 0 ? { PortBindings: portBindings(ctx.ports) } : {}),
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: {} },
      Mounts: ctx.files.map((f) => ({ Type: 'bind', Source: f.source, Target: f.target, ReadOnly: true })),
      ...(spec.resources?.memoryBytes !== undefined ? { Memory: spec.resources.memoryBytes } : {}),
      ...(spec.resources?.nanoCpus !== undefined ? { NanoCpus: spec.resources.nanoCpus } : {}),
    },
  }
  if (firstNetwork !== undefined) {
    // Docker before API 1.44 takes one endpoint at create; the others are connected before start.
    body['NetworkingConfig'] = { EndpointsConfig: { [firstNetwork.network]: dockerEndpointConfig(firstNetwork) } }
    if (ctx.ports.length > 0) body['ExposedPorts'] = Object.fromEntries(ctx.ports.map((p) => [`${p.target}/${p.protocol}`, {}]))
  }
  if (spec.command !== undefined) body['Entrypoint'] = [...spec.command]
  // With an entrypoint given, Docker does not inherit the image's Cmd; args (or nothing) follow it.
  if (spec.args !== undefined) body['Cmd'] = [...spec.args]
  if (spec.workingDir !== undefined) body['WorkingDir'] = spec.workingDir
  const hc = spec.healthcheck
  if (hc !== undefined) {
    body['Healthcheck'] = {
      Test: [...hc.test],
      Interval: Math.round((hc.intervalMs ?? HEALTHCHECK_DEFAULTS.intervalMs) * MS),
      Timeout: Math.round((hc.timeoutMs ?? HEALTHCHECK_DEFAULTS.timeoutMs) * MS),
      Retries: hc.retries ?? HEALTHCHECK_DEFAULTS.retries,
      StartPeriod: Math.round((hc.startPeriodMs ?? HEALTHCHECK_DEFAULTS.startPeriodMs) * MS),
    }
  }
  return body
}

/** Docker's `PortBindings` for ports published from a container's own namespace (all host interfaces). */
function portBindings(ports: readonly PublishedPort[]): Record<string, { HostIp: string; HostPort: string }[]> {
  return Object.fromEntries(ports.map((p) => [`${p.target}/${p.protocol}`, [{ HostIp: '', HostPort: String(p.published) }]]))
}

/** Docker's `EndpointSettings` for joining one network with fixed addresses and aliases. */
export function dockerEndpointConfig(n: RuntimeNetworkAttachment): Record<string, unknown> {
  const ipam: Record<string, string> = {}
  if (n.ipv4Address !== undefined) ipam['IPv4Address'] = n.ipv4Address
  if (n.ipv6Address !== undefined) ipam['IPv6Address'] = n.ipv6Address
  return {
    ...(Object.keys(ipam).length > 0 ? { IPAMConfig: ipam } : {}),
    ...(n.aliases !== undefined && n.aliases.length > 0 ? { Aliases: [...n.aliases] } : {}),
  }
}

function parsePorts(raw: string | undefined): PublishedPort[] {
  if (raw === undefined) return []
  try {
    const v = JSON.parse(raw) as unknown
    return Array.isArray(v) ? (v as PublishedPort[]) : []
  } catch {
    return []
  }
}

/** True when Docker recorded a failed start (the container never ran). */
export function startFailed(d: DockerInspect): boolean {
  return d.State?.Status === 'created' && (d.State.Error ?? '') !== '' && dockerTime(d.State.StartedAt) === undefined
}

/** Exit code recorded for a failed start: 127 when the executable was not found, else 126. */
export function startFailureCode(d: DockerInspect): number {
  return d.State?.ExitCode === 127 ? 127 : 126
}

/** Maps Docker's inspect document to a {@link ContainerInfo}. */
export function toContainerInfo(d: DockerInspect): ContainerInfo {
  const labels = d.Config?.Labels ?? {}
  const status = d.State?.Status ?? 'created'
  const failed = startFailed(d)
  const state = failed ? 'exited' : status === 'created' ? 'created' : status === 'exited' || status === 'dead' || status === 'removing' ? 'exited' : 'running'
  const createdAt = dockerTime(d.Created) ?? 0
  const health = d.State?.Health?.Status
  const ran = state !== 'created' && !failed
  return {
    id: d.Id,
    name: labels[DOCKER_LABEL.named] === 'true' && d.Name !== undefined ? d.Name.replace(/^\//, '') : undefined,
    image: d.Config?.Image ?? '',
    labels: publicLabels(labels),
    state,
    createdAt,
    startedAt: failed ? undefined : dockerTime(d.State?.StartedAt),
    finishedAt: state === 'exited' ? (dockerTime(d.State?.FinishedAt) ?? createdAt) : undefined,
    exitCode: state === 'exited' ? (failed ? startFailureCode(d) : (d.State?.ExitCode ?? 0)) : undefined,
    error: (d.State?.Error ?? '') !== '' ? d.State?.Error : undefined,
    health: ran && (health === 'starting' || health === 'healthy' || health === 'unhealthy') ? (health) : undefined,
    ports: ran ? parsePorts(labels[DOCKER_LABEL.ports]) : [],
  }
}
