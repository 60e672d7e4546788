import fc from 'fast-check'
import type {
  GenericResource,
  NetworkAttachmentConfig,
  Placement,
  PlacementPreference,
  Platform,
  ResourceRequirements,
  Resources,
  RestartPolicy,
  TaskSpec,
} from '@swarmkit-ts/api'
import { arbContainerSpec } from './container-spec.ts'
import { arbBytes, arbDriver, arbId, arbIpv4, arbIpv4Cidr, arbLabelKey, arbLabels, arbNat, arbWord, items, rec } from './primitives.ts'

/** A valid {@link GenericResource}: a non-empty kind with a named or a non-negative discrete value. */
export function arbGenericResource(): fc.Arbitrary<GenericResource> {
  const kind = fc.constantFrom('gpu', 'fpga', 'ssd')
  return fc.oneof(
    fc.tuple(kind, arbWord()).map(([k, namedValue]): GenericResource => ({ kind: k, namedValue })),
    fc.tuple(kind, arbNat()).map(([k, discreteValue]): GenericResource => ({ kind: k, discreteValue })),
  )
}

/**
 * Valid {@link Resources}: `nanoCpus` is 0 or ≥ 1,000,000 (0.001 CPU) and `memoryBytes` 0 or
 * ≥ 4 MiB, with the boundaries included.
 */
export function arbResources(): fc.Arbitrary<Resources> {
  const nanoCpus = fc.oneof(fc.constantFrom(0, 1_000_000, 1_000_000_000), fc.integer({ min: 1_000_000, max: Number.MAX_SAFE_INTEGER }))
  const memoryBytes = fc.oneof(fc.constantFrom(0, 4 * 1024 * 1024, 1024 ** 3), fc.integer({ min: 4 * 1024 * 1024, max: Number.MAX_SAFE_INTEGER }))
  return rec<Resources>({ nanoCpus, memoryBytes, generic: items(arbGenericResource()) }, [])
}

/** Valid {@link ResourceRequirements}. */
export function arbResourceRequirements(): fc.Arbitrary<ResourceRequirements> {
  return rec<ResourceRequirements>(
    { limits: arbResources(), reservations: arbResources(), swapBytes: arbNat(), memorySwappiness: fc.integer({ min: 0, max: 100 }) },
    [],
  )
}

/** A valid {@link RestartPolicy}. */
export function arbRestartPolicy(): fc.Arbitrary<RestartPolicy> {
  return rec<RestartPolicy>(
    { condition: fc.constantFrom('none', 'on-failure', 'any'), delayMs: arbNat(), maxAttempts: arbNat(), windowMs: arbNat() },
    [],
  )
}

/** An IPv4 CIDR or address, as `node.ip` constraints take. */
function arbIpOrCidr(): fc.Arbitrary<string> {
  return fc.oneof(
    arbIpv4(),
    fc.constantFrom('10.0.0.0/8', '192.168.0.0/16', '172.16.0.0/12'),
    arbIpv4Cidr(),
  )
}

/**
 * A valid placement constraint from a small grammar: `node.id`, `node.hostname`, `node.role`,
 * `node.platform.os|arch`, `node.ip` (an address or CIDR), `node.labels.<k>` and
 * `engine.labels.<k>`, compared with `==` or `!=`, with or without spaces around the operator.
 */
export function arbConstraint(): fc.Arbitrary<string> {
  const op = fc.constantFrom('==', '!=')
  const pair = fc.oneof(
    fc.tuple(fc.constant('node.role'), fc.constantFrom('manager', 'worker')),
    fc.tuple(fc.constant('node.id'), arbId()),
    fc.tuple(fc.constant('node.hostname'), arbWord()),
    fc.tuple(fc.constant('node.platform.os'), fc.constantFrom('linux', 'windows')),
    fc.tuple(fc.constant('node.platform.arch'), fc.constantFrom('x86_64', 'aarch64', 'amd64')),
    fc.tuple(fc.constant('node.ip'), arbIpOrCidr()),
    fc.tuple(arbLabelKey().map((k) => `node.labels.${k}`), arbWord()),
    fc.tuple(arbLabelKey().map((k) => `engine.labels.${k}`), arbWord()),
  )
  return fc
    .tuple(pair, op, fc.constantFrom(' ', ''))
    .map(([[key, value], o, sp]) => `${key}${sp}${o}${sp}${value}`)
}

/** A spread preference over `node.labels.<k>` or `engine.labels.<k>`. */
export function arbPlacementPreference(): fc.Arbitrary<PlacementPreference> {
  return fc
    .tuple(fc.constantFrom('node.labels.', 'engine.labels.'), arbLabelKey())
    .map(([prefix, key]) => ({ spread: { spreadDescriptor: prefix + key } }))
}

/** A valid {@link Placement}. */
export function arbPlacement(): fc.Arbitrary<Placement> {
  const platform = rec<Platform>({ architecture: fc.constantFrom('amd64', 'arm64'), os: fc.constantFrom('linux', 'windows') }, [])
  return rec<Placement>(
    {
      constraints: items(arbConstraint()),
      preferences: items(arbPlacementPreference()),
      platforms: items(platform),
      maxReplicas: arbNat(),
      strategy: fc.constantFrom('spread', 'binpack'),
    },
    [],
  )
}

/** A valid {@link NetworkAttachmentConfig}. */
export function arbNetworkAttachmentConfig(): fc.Arbitrary<NetworkAttachmentConfig> {
  return rec<NetworkAttachmentConfig>(
    {
      target: fc.oneof(arbId(), arbWord()),
      aliases: items(arbWord()),
      addresses: items(arbIpv4()),
      driverAttachmentOpts: arbLabels(),
    },
    ['target'],
  )
}

/** A valid {@link TaskSpec}: mostly containers, sometimes an attachment or a generic runtime. */
export function arbTaskSpec(): fc.Arbitrary<TaskSpec> {
  const common = rec<Omit<TaskSpec, 'container' | 'attachment' | 'generic'>>(
    {
      resources: arbResourceRequirements(),
      restart: arbRestartPolicy(),
      placement: arbPlacement(),
      logDriver: arbDriver(),
      networks: items(arbNetworkAttachmentConfig()),
      forceUpdate: arbNat(),
      resourceReferences: items(rec<NonNullable<TaskSpec['resourceReferences']>[number]>({ resourceId: arbId(), resourceType: fc.constantFrom('task', 'secret', 'config') }, ['resourceId', 'resourceType'])),
    },
    [],
  )
  const runtime = fc.oneof(
    { arbitrary: arbContainerSpec().map((container): TaskSpec => ({ container })), weight: 8 },
    { arbitrary: arbId().map((containerId): TaskSpec => ({ attachment: { containerId } })), weight: 1 },
    {
      arbitrary: rec<NonNullable<TaskSpec['generic']>>({ kind: arbWord(), payload: arbBytes() }, ['kind']).map((generic): TaskSpec => ({ generic })),
      weight: 1,
    },
  )
  return fc.tuple(runtime, common).map(([r, c]) => ({ ...r, ...c }))
}
