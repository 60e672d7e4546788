import fc from 'fast-check'
import { TASK_STATES } from '@swarmkit-ts/api'
import type {
  ContainerStatus,
  Endpoint,
  EngineDescription,
  JobStatus,
  ManagerStatus,
  Network,
  NetworkAttachment,
  Node,
  NodeCertificate,
  NodeDescription,
  NodeStatus,
  Platform,
  Service,
  Task,
  TaskStatus,
  UpdateStatus,
  VirtualIP,
} from '@swarmkit-ts/api'
import { arbIpamPool, arbNetworkSpec } from './network-spec.ts'
import { arbNodeSpec } from './node-spec.ts'
import {
  arbAddr,
  arbAnnotations,
  arbAnnotationsNamed,
  arbBytes,
  arbDriver,
  arbId,
  arbIpv4,
  arbLabels,
  arbMeta,
  arbNat,
  arbRaftMemberId,
  arbText,
  arbTimestamp,
  arbVersion,
  arbWord,
  items,
  rec,
} from './primitives.ts'
import { arbEndpointSpec, arbPortConfig, arbServiceSpec, dedupePorts } from './service-spec.ts'
import { arbGenericResource, arbResources, arbTaskSpec } from './task-spec.ts'

/** A valid {@link NetworkAttachment} with `addr/prefix` addresses. */
export function arbNetworkAttachment(): fc.Arbitrary<NetworkAttachment> {
  return rec<NetworkAttachment>(
    {
      networkId: arbId(),
      addresses: items(fc.tuple(arbIpv4(), fc.integer({ min: 8, max: 30 })).map(([ip, bits]) => `${ip}/${bits}`)),
      aliases: items(arbWord()),
      driverAttachmentOpts: arbLabels(),
    },
    ['networkId'],
  )
}

function arbNodeDescription(): fc.Arbitrary<NodeDescription> {
  const engine = rec<EngineDescription>(
    {
      engineVersion: fc.constantFrom('24.0.7', '25.0.0', '27.1.1'),
      labels: arbLabels(),
      plugins: items(rec<{ type: string; name: string }>({ type: fc.constantFrom('Network', 'Volume', 'Log'), name: arbWord() }, ['type', 'name'])),
    },
    [],
  )
  return rec<NodeDescription>(
    {
      hostname: arbWord(),
      platform: rec<Platform>({ architecture: fc.constantFrom('x86_64', 'aarch64'), os: fc.constantFrom('linux', 'windows') }, []),
      resources: arbResources(),
      engine,
      tlsInfo: rec<NonNullable<NodeDescription['tlsInfo']>>({ trustRoot: arbBytes(), certIssuerSubject: arbBytes(), certIssuerPublicKey: arbBytes() }, []),
      fips: fc.boolean(),
    },
    [],
  )
}

/** A valid {@link Node}: a manager-status only on managers, the certificate's CN equal to the node ID. */
export function arbNode(): fc.Arbitrary<Node> {
  const status = rec<NodeStatus>({ state: fc.constantFrom('unknown', 'down', 'ready', 'disconnected'), message: arbText(), addr: arbIpv4() }, ['state'])
  const managerStatus = rec<ManagerStatus>(
    { raftId: arbRaftMemberId(), addr: arbAddr(), leader: fc.boolean(), reachability: fc.constantFrom('unknown', 'unreachable', 'reachable') },
    ['raftId', 'addr', 'leader', 'reachability'],
  )
  const certificate = rec<Omit<NodeCertificate, 'cn'>>(
    {
      role: fc.constantFrom('worker', 'manager'),
      csr: arbBytes(),
      status: rec<NodeCertificate['status']>(
        { state: fc.constantFrom('unknown', 'renew', 'pending', 'issued', 'failed', 'rotate'), err: arbText() },
        ['state'],
      ),
      certificate: arbBytes(),
    },
    ['role', 'status'],
  )
  const rest = rec<Omit<Node, 'id' | 'role' | 'managerStatus' | 'certificate'>>(
    {
      meta: arbMeta(),
      spec: arbNodeSpec(),
      description: arbNodeDescription(),
      status,
      attachments: items(arbNetworkAttachment()),
      vxlanUdpPort: fc.integer({ min: 1, max: 65535 }),
    },
    ['meta', 'spec', 'status'],
  )
  return fc
    .tuple(arbId(), fc.constantFrom('worker', 'manager'), fc.option(managerStatus, { nil: undefined }), fc.option(certificate, { nil: undefined }), rest)
    .map(([id, role, ms, cert, r]): Node => {
      const node: Node = { id, role, ...r }
      if (role === 'manager' && ms !== undefined) node.managerStatus = ms
      if (cert !== undefined) node.certificate = { ...cert, cn: id }
      return node
    })
}

/** A resolved {@link Endpoint} of a service or task. */
export function arbEndpoint(): fc.Arbitrary<Endpoint> {
  return rec<Endpoint>(
    {
      spec: arbEndpointSpec(),
      ports: items(arbPortConfig()).map(dedupePorts),
      virtualIps: items(
        rec<VirtualIP>({ networkId: arbId(), addr: fc.tuple(arbIpv4(), fc.integer({ min: 8, max: 30 })).map(([ip, b]) => `${ip}/${b}`) }, ['networkId', 'addr']),
      ),
    },
    [],
  )
}

/** A valid {@link Service} (its spec, and previous spec when present, from {@link arbServiceSpec}). */
export function arbService(): fc.Arbitrary<Service> {
  return rec<Service>(
    {
      id: arbId(),
      meta: arbMeta(),
      spec: arbServiceSpec(),
      specVersion: arbVersion(),
      previousSpec: arbServiceSpec(),
      previousSpecVersion: arbVersion(),
      endpoint: arbEndpoint(),
      updateStatus: rec<UpdateStatus>(
        {
          state: fc.constantFrom('unknown', 'updating', 'paused', 'completed', 'rollback_started', 'rollback_paused', 'rollback_completed'),
          startedAt: arbTimestamp(),
          completedAt: arbTimestamp(),
          message: arbText(),
        },
        ['state'],
      ),
      jobStatus: rec<JobStatus>(
        { jobIteration: arbVersion(), lastExecution: arbTimestamp(), nextExecution: arbTimestamp(), skippedExecutions: arbNat(), lastSkippedExecution: arbTimestamp() },
        ['jobIteration'],
      ),
      pendingDelete: fc.boolean(),
    },
    ['id', 'meta', 'spec'],
  )
}

function arbTaskStatus(): fc.Arbitrary<TaskStatus> {
  return rec<TaskStatus>(
    {
      timestamp: arbTimestamp(),
      state: fc.constantFrom(...TASK_STATES),
      message: arbText(),
      err: arbText(),
      containerStatus: rec<ContainerStatus>({ containerId: arbId(), pid: fc.nat(4_194_304), exitCode: fc.integer({ min: -1, max: 255 }) }, []),
      portStatus: items(arbPortConfig()).map((ports) => ({ ports: dedupePorts(ports) })),
      appliedBy: arbId(),
      appliedAt: arbTimestamp(),
    },
    ['timestamp', 'state'],
  )
}

/** A valid {@link Task}; `nodeId` is empty (unassigned) or an ID. */
export function arbTask(): fc.Arbitrary<Task> {
  return rec<Task>(
    {
      id: arbId(),
      meta: arbMeta(),
      spec: arbTaskSpec(),
      specVersion: arbVersion(),
      serviceId: arbId(),
      slot: fc.oneof(fc.nat(10), fc.nat()),
      nodeId: fc.oneof(fc.constant(''), arbId()),
      annotations: arbAnnotationsNamed(fc.oneof(fc.constant(''), fc.tuple(arbWord(), fc.nat(10), arbId()).map(([s, n, id]) => `${s}.${n}.${id}`))),
      serviceAnnotations: arbAnnotations(),
      status: arbTaskStatus(),
      desiredState: fc.constantFrom(...TASK_STATES),
      networks: items(arbNetworkAttachment()),
      endpoint: arbEndpoint(),
      logDriver: arbDriver(),
      assignedGenericResources: items(arbGenericResource()),
      jobIteration: arbVersion(),
    },
    ['id', 'meta', 'spec', 'serviceId', 'slot', 'nodeId', 'annotations', 'serviceAnnotations', 'status', 'desiredState'],
  )
}

/** A valid {@link Network} with its allocated pools. */
export function arbNetwork(): fc.Arbitrary<Network> {
  return rec<Network>(
    {
      id: arbId(),
      meta: arbMeta(),
      spec: arbNetworkSpec(),
      driverState: arbDriver(),
      ipam: rec<NonNullable<Network['ipam']>>({ driver: arbDriver(), configs: items(arbIpamPool()) }, []),
      pendingDelete: fc.boolean(),
    },
    ['id', 'meta', 'spec'],
  )
}
