/**
 * Nodes between Docker's JSON (`swarm.Node`, `swarm.NodeSpec`) and the api's objects.
 *
 * @module
 */
import { InvalidArgumentError, NodeAvailability, NodeRole, type GenericResource, type Node, type NodeSpec } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { dockerMeta, type DockerVersion } from './meta.ts'
import type { DockerTlsInfo } from './swarm-tls.ts'
import { annotationsFrom, checkFields, objectAt, optString } from './swarm-json.ts'

/** Docker's generic resource: one of a named or a discrete value. */
export type DockerGenericResource =
  | { NamedResourceSpec: { Kind: string; Value: string } }
  | { DiscreteResourceSpec: { Kind: string; Value: number } }

/** Docker's `NodeSpec`. */
export interface DockerNodeSpec {
  Name?: string
  Labels: Record<string, string>
  Role: NodeRole
  Availability: NodeAvailability
}

/** Docker's `Node`. */
export interface DockerNode {
  ID: string
  Version: DockerVersion
  CreatedAt: string
  UpdatedAt: string
  Spec: DockerNodeSpec
  Description: {
    Hostname: string
    Platform: { Architecture: string; OS: string }
    Resources: { NanoCPUs: number; MemoryBytes: number; GenericResources?: DockerGenericResource[] }
    Engine: { EngineVersion: string; Labels?: Record<string, string>; Plugins?: { Type: string; Name: string }[] }
    TLSInfo: Partial<DockerTlsInfo>
  }
  Status: { State: string; Message?: string; Addr: string }
  ManagerStatus?: { Leader?: boolean; Reachability: string; Addr: string }
}

/** Docker's generic resources of the api's. */
export function dockerGenericResources(generic: readonly GenericResource[]): DockerGenericResource[] {
  return generic.map((g) =>
    'namedValue' in g ? { NamedResourceSpec: { Kind: g.kind, Value: g.namedValue } } : { DiscreteResourceSpec: { Kind: g.kind, Value: g.discreteValue } },
  )
}

function base64(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined || bytes.length === 0 ? undefined : Buffer.from(bytes).toString('base64')
}

/** A node as Docker's JSON; `clusterTls` (the cluster root's) stands in for TLS info the node does not report. */
export function nodeToDocker(node: Frozen<Node>, clusterTls?: DockerTlsInfo): DockerNode {
  const d = node.description
  const a = node.spec.annotations
  const spec: DockerNodeSpec = {
    ...(a.name === '' ? {} : { Name: a.name }),
    Labels: { ...(a.labels ?? {}) },
    Role: node.spec.desiredRole,
    Availability: node.spec.availability,
  }
  const tls = d?.tlsInfo
  const tlsRoot = tls?.trustRoot === undefined || tls.trustRoot.length === 0 ? clusterTls?.TrustRoot : Buffer.from(tls.trustRoot).toString('utf8')
  const subject = base64(tls?.certIssuerSubject) ?? clusterTls?.CertIssuerSubject
  const publicKey = base64(tls?.certIssuerPublicKey) ?? clusterTls?.CertIssuerPublicKey
  const generic = d?.resources?.generic
  const engineLabels = d?.engine?.labels
  const plugins = d?.engine?.plugins
  const out: DockerNode = {
    ...dockerMeta(node.id, node.meta),
    Spec: spec,
    Description: {
      Hostname: d?.hostname ?? '',
      Platform: { Architecture: d?.platform?.architecture ?? '', OS: d?.platform?.os ?? '' },
      Resources: {
        NanoCPUs: d?.resources?.nanoCpus ?? 0,
        MemoryBytes: d?.resources?.memoryBytes ?? 0,
        ...(generic === undefined || generic.length === 0 ? {} : { GenericResources: dockerGenericResources(generic) }),
      },
      Engine: {
        EngineVersion: d?.engine?.engineVersion ?? '',
        ...(engineLabels === undefined ? {} : { Labels: { ...engineLabels } }),
        ...(plugins === undefined ? {} : { Plugins: plugins.map((p) => ({ Type: p.type, Name: p.name })) }),
      },
      TLSInfo: {
        ...(tlsRoot === undefined ? {} : { TrustRoot: tlsRoot }),
        ...(subject === undefined ? {} : { CertIssuerSubject: subject }),
        ...(publicKey === undefined ? {} : { CertIssuerPublicKey: publicKey }),
      },
    },
    Status: { State: node.status.state, ...(node.status.message === undefined ? {} : { Message: node.status.message }), Addr: node.status.addr ?? '' },
  }
  const ms = node.managerStatus
  if (ms !== undefined) out.ManagerStatus = { ...(ms.leader ? { Leader: true } : {}), Reachability: ms.reachability, Addr: ms.addr }
  return out
}

const ROLES: readonly string[] = Object.values(NodeRole)
const AVAILABILITIES: readonly string[] = Object.values(NodeAvailability)

/**
 * The api's node spec from Docker's `NodeSpec` (the body of `POST /nodes/{id}/update`): `Name`,
 * `Labels`, `Role`, `Availability`; an empty role or availability keeps `current`'s, the
 * membership is kept. Refuses unknown fields and values naming them.
 */
export function nodeSpecFromDocker(body: unknown, current: Frozen<NodeSpec>): NodeSpec {
  const obj = objectAt(body, 'NodeSpec')
  checkFields(obj, '', ['Name', 'Labels', 'Role', 'Availability'])
  const role = optString(obj['Role'], 'Role') ?? ''
  if (role !== '' && !ROLES.includes(role)) throw new InvalidArgumentError('Role', `invalid role ${JSON.stringify(role)}: must be worker or manager`)
  const availability = optString(obj['Availability'], 'Availability') ?? ''
  if (availability !== '' && !AVAILABILITIES.includes(availability)) {
    throw new InvalidArgumentError('Availability', `invalid availability ${JSON.stringify(availability)}: must be active, pause or drain`)
  }
  const annotations = annotationsFrom(obj, '')
  return {
    annotations: current.annotations.indices === undefined ? annotations : { ...annotations, indices: current.annotations.indices },
    desiredRole: role === '' ? current.desiredRole : (role as NodeRole),
    membership: current.membership,
    availability: availability === '' ? current.availability : (availability as NodeAvailability),
  }
}
