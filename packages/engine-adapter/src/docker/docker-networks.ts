/**
 * Docker networks for {@link DockerRuntime}: user-defined bridge networks with a fixed subnet and
 * gateway, labelled with the runtime's instance so each runtime sees only its own.
 */
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import { isIPv4, isIPv6 } from 'node:net'
import type Docker from 'dockerode'
import { publicLabels } from '../shared/internal-labels.ts'
import { dockerEndpointConfig, DOCKER_LABEL } from './docker-spec.ts'
import type { RuntimeNetworkAttachment } from '../runtime.ts'

/** A subnet of a {@link DockerNetworkSpec}: CIDR and, optionally, the gateway (a plain address inside it). */
export interface DockerNetworkSubnet {
  /** e.g. `10.0.1.0/24` or `fd00:1::/64`. */
  subnet: string
  /** e.g. `10.0.1.1`; the engine's bridge takes this address on the host. @default the engine's choice (first host address) */
  gateway?: string
}

/** What {@link DockerRuntime.createNetwork} creates: a bridge network on this host. */
export interface DockerNetworkSpec {
  /** Network name, `[A-Za-z0-9][A-Za-z0-9_.-]*`, unique on the engine. */
  name: string
  /** The IPv4 subnet (containers can be given fixed addresses only on a network with a subnet). */
  ipv4?: DockerNetworkSubnet
  /** An IPv6 subnet as well (enables IPv6 on the network). */
  ipv6?: DockerNetworkSubnet
  /** No route out of the network (Docker's `--internal`). @default false */
  internal?: boolean
  /** Labels, returned by `inspectNetwork`/`listNetworks` and matched by `listNetworks({ labels })`. */
  labels?: Readonly<Record<string, string>>
  /** Bridge driver options (`com.docker.network.bridge.*`). */
  options?: Readonly<Record<string, string>>
}

/** A container attached to a network, as {@link DockerRuntime.inspectNetwork} reports it. */
export interface DockerNetworkEndpoint {
  /** Container id. */
  id: string
  /** Its IPv4 address with the prefix length, e.g. `10.0.1.5/24`, when it has one. */
  ipv4Address: string | undefined
  /** Its IPv6 address with the prefix length, when it has one. */
  ipv6Address: string | undefined
}

/** A network of this runtime. */
export interface DockerNetworkInfo {
  /** Engine id. */
  id: string
  /** Name. */
  name: string
  /** Engine driver (`bridge` for the networks this runtime creates). */
  driver: string
  /** Whether the network is internal. */
  internal: boolean
  /** Its labels (without the runtime's internal ones). */
  labels: Readonly<Record<string, string>>
  /** Its subnets, in the engine's order. */
  subnets: readonly DockerNetworkSubnet[]
  /** Containers attached to it (of any runtime instance), in no particular order. */
  containers: readonly DockerNetworkEndpoint[]
}

/** Options of {@link DockerRuntime.listNetworks}. */
export interface ListNetworksOptions {
  /** Only networks carrying every one of these labels with these values. */
  labels?: Readonly<Record<string, string>>
}

interface DockerError { statusCode?: number; message?: string; json?: { message?: string } }
const statusOf = (err: unknown): number | undefined => (typeof err === 'object' && err !== null ? (err as DockerError).statusCode : undefined)
const messageOf = (err: unknown): string => {
  const e = err as DockerError
  return e.json?.message ?? e.message ?? String(err)
}

interface NetworkInspect {
  Id: string
  Name: string
  Driver?: string
  Internal?: boolean
  Labels?: Record<string, string> | null
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null }
  Containers?: Record<string, { IPv4Address?: string; IPv6Address?: string }> | null
}

function checkSubnet(field: string, s: DockerNetworkSubnet, family: 4 | 6): void {
  const [addr, prefix, ...rest] = s.subnet.split('/')
  const max = family === 4 ? 32 : 128
  const okAddr = family === 4 ? isIPv4(addr ?? '') : isIPv6(addr ?? '')
  if (!okAddr || rest.length > 0 || prefix === undefined || !/^\d+$/.test(prefix) || Number(prefix) > max) {
    throw new InvalidArgumentError(`${field}.subnet`, `must be an IPv${family} CIDR such as ${family === 4 ? '10.0.1.0/24' : 'fd00:1::/64'}`)
  }
  if (s.gateway !== undefined && !(family === 4 ? isIPv4(s.gateway) : isIPv6(s.gateway))) {
    throw new InvalidArgumentError(`${field}.gateway`, `must be an IPv${family} address without a prefix length`)
  }
}

/** Checks a network spec, throwing `InvalidArgumentError` naming the field. */
export function validateDockerNetworkSpec(spec: DockerNetworkSpec): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(spec.name)) throw new InvalidArgumentError('name', 'must match [A-Za-z0-9][A-Za-z0-9_.-]*')
  if (spec.ipv4 !== undefined) checkSubnet('ipv4', spec.ipv4, 4)
  if (spec.ipv6 !== undefined) checkSubnet('ipv6', spec.ipv6, 6)
}

function toInfo(n: NetworkInspect): DockerNetworkInfo {
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver ?? '',
    internal: n.Internal === true,
    labels: publicLabels(n.Labels ?? {}),
    subnets: (n.IPAM?.Config ?? []).filter((c) => c.Subnet !== undefined).map((c) => ({
      subnet: c.Subnet ?? '',
      ...(c.Gateway !== undefined && c.Gateway !== '' ? { gateway: c.Gateway } : {}),
    })),
    containers: Object.entries(n.Containers ?? {}).map(([id, c]) => ({
      id,
      ipv4Address: c.IPv4Address === undefined || c.IPv4Address === '' ? undefined : c.IPv4Address,
      ipv6Address: c.IPv6Address === undefined || c.IPv6Address === '' ? undefined : c.IPv6Address,
    })),
  }
}

/** Network operations of one runtime instance over a loaded client. @internal */
export class DockerNetworks {
  readonly #docker: () => Promise<Docker>
  readonly #instance: string

  constructor(docker: () => Promise<Docker>, instance: string) {
    this.#docker = docker
    this.#instance = instance
  }

  async create(spec: DockerNetworkSpec): Promise<DockerNetworkInfo> {
    validateDockerNetworkSpec(spec)
    const docker = await this.#docker()
    const config = [spec.ipv4, spec.ipv6].filter((s): s is DockerNetworkSubnet => s !== undefined)
      .map((s) => ({ Subnet: s.subnet, ...(s.gateway !== undefined ? { Gateway: s.gateway } : {}) }))
    const body = {
      Name: spec.name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Internal: spec.internal === true,
      EnableIPv6: spec.ipv6 !== undefined,
      Attachable: false,
      IPAM: { Driver: 'default', Config: config },
      Options: { ...(spec.options ?? {}) },
      Labels: { ...(spec.labels ?? {}), [DOCKER_LABEL.instance]: this.#instance },
    }
    let id: string
    try {
      id = (await docker.createNetwork(body)).id
    } catch (err) {
      const status = statusOf(err)
      if (status === 409) throw new AlreadyExistsError('network', spec.name, { cause: err })
      // Docker refuses a subnet overlapping another network's (or a bad gateway) with 400/403.
      if (status === 400 || status === 403) {
        throw new FailedPreconditionError(`network ${spec.name} cannot be created: ${messageOf(err)}`, { reason: 'network-conflict', cause: err })
      }
      throw err
    }
    return this.inspect(id)
  }

  async #inspectRaw(idOrName: string): Promise<NetworkInspect> {
    const docker = await this.#docker()
    let n: NetworkInspect
    try {
      n = (await docker.getNetwork(idOrName).inspect()) as NetworkInspect
    } catch (err) {
      if (statusOf(err) === 404) throw new NotFoundError('network', idOrName, { cause: err })
      throw err
    }
    if (n.Labels?.[DOCKER_LABEL.instance] !== this.#instance) throw new NotFoundError('network', idOrName)
    return n
  }

  async inspect(idOrName: string): Promise<DockerNetworkInfo> {
    return toInfo(await this.#inspectRaw(idOrName))
  }

  async remove(idOrName: string): Promise<void> {
    const n = await this.#inspectRaw(idOrName)
    const docker = await this.#docker()
    try {
      await docker.getNetwork(n.Id).remove()
    } catch (err) {
      const status = statusOf(err)
      if (status === 404) throw new NotFoundError('network', idOrName, { cause: err })
      if (status === 403 || status === 409) {
        throw new FailedPreconditionError(`network ${n.Name} still has containers attached`, { reason: 'network-in-use', cause: err })
      }
      throw err
    }
  }

  async list(options: ListNetworksOptions = {}): Promise<DockerNetworkInfo[]> {
    const docker = await this.#docker()
    const label = [`${DOCKER_LABEL.instance}=${this.#instance}`, ...Object.entries(options.labels ?? {}).map(([k, v]) => `${k}=${v}`)]
    const found = (await docker.listNetworks({ filters: { label } })) as { Id: string }[]
    const infos = await Promise.all(found.map(async (n) => {
      try {
        return await this.inspect(n.Id)
      } catch (err) {
        if (err instanceof NotFoundError) return undefined
        throw err
      }
    }))
    return infos.filter((i): i is DockerNetworkInfo => i !== undefined)
  }

  /** Rejects with `NotFoundError` (kind `network`) for the first network of `attachments` that does not exist. */
  async checkExist(attachments: readonly RuntimeNetworkAttachment[]): Promise<void> {
    const docker = await this.#docker()
    for (const a of attachments) {
      try {
        await docker.getNetwork(a.network).inspect()
      } catch (err) {
        if (statusOf(err) === 404) throw new NotFoundError('network', a.network, { cause: err })
        throw err
      }
    }
  }

  /** Connects a created container to one more network. */
  async connect(containerId: string, attachment: RuntimeNetworkAttachment): Promise<void> {
    const docker = await this.#docker()
    await docker.getNetwork(attachment.network).connect({ Container: containerId, EndpointConfig: dockerEndpointConfig(attachment) })
  }
}
