import fc from 'fast-check'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { EndpointSpec, JobSchedule, PortConfig, ReplicatedJobMode, ServiceMode, ServiceModeKind, ServiceSpec, UpdateConfig } from '@swarmkit-ts/api'
import { arbAnnotations, arbNat, arbWord, items, rec } from './primitives.ts'
import { arbNetworkAttachmentConfig, arbTaskSpec } from './task-spec.ts'

const MODE_KINDS: readonly ServiceModeKind[] = ['replicated', 'global', 'replicatedJob', 'globalJob']

/** Cron expressions that validate: five fields, six with seconds, seven with a year, nicknames. */
const CRON_EXPRESSIONS = ['*/5 * * * *', '0 3 * * *', '30 9 * * 1-5', '0 0 1 1 *', '15,45 */2 * * *', '*/10 * * * * *', '0 0 12 * * * 2099', '@hourly', '@daily']
/** IANA zones, including ones with offsets that are not whole hours. */
const TIME_ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Adelaide']

/** A valid {@link JobSchedule}: a cron expression and, sometimes, an IANA time zone. */
export function arbJobSchedule(): fc.Arbitrary<JobSchedule> {
  return rec<JobSchedule>({ cron: fc.constantFrom(...CRON_EXPRESSIONS), timeZone: fc.constantFrom(...TIME_ZONES) }, ['cron'])
}

/** A valid {@link ServiceMode} of one of `kinds` (all four by default). */
export function arbServiceMode(kinds: readonly ServiceModeKind[] = MODE_KINDS): fc.Arbitrary<ServiceMode> {
  const byKind: Record<ServiceModeKind, fc.Arbitrary<ServiceMode>> = {
    replicated: rec<{ replicas?: number }>({ replicas: fc.oneof(fc.nat(10), arbNat()) }, []).map((replicated): ServiceMode => ({ replicated })),
    global: fc.constant({ global: {} }),
    replicatedJob: rec<ReplicatedJobMode>(
      { maxConcurrent: fc.oneof(fc.nat(10), arbNat()), totalCompletions: fc.oneof(fc.nat(10), arbNat()), schedule: arbJobSchedule() },
      [],
    ).map((replicatedJob): ServiceMode => ({ replicatedJob })),
    globalJob: rec<{ schedule?: JobSchedule }>({ schedule: arbJobSchedule() }, []).map((globalJob): ServiceMode => ({ globalJob })),
  }
  if (kinds.length === 0) throw new InvalidArgumentError('kinds', 'arbServiceMode needs at least one mode kind')
  return fc.oneof(...kinds.map((k) => byKind[k]))
}

/** A valid {@link UpdateConfig}: non-negative counts and durations, `maxFailureRatio` in [0, 1]. */
export function arbUpdateConfig(): fc.Arbitrary<UpdateConfig> {
  return rec<UpdateConfig>(
    {
      parallelism: fc.oneof(fc.nat(10), arbNat()),
      delayMs: arbNat(),
      failureAction: fc.constantFrom('pause', 'continue', 'rollback'),
      monitorMs: arbNat(),
      maxFailureRatio: fc.oneof(fc.constantFrom(0, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x))),
      order: fc.constantFrom('stop-first', 'start-first'),
    },
    [],
  )
}

/** A valid {@link PortConfig}. `publishMode` is forced to `host` when `hostOnly` is set. */
export function arbPortConfig(hostOnly = false): fc.Arbitrary<PortConfig> {
  return rec<PortConfig>(
    {
      name: arbWord(),
      protocol: fc.constantFrom('tcp', 'udp', 'sctp'),
      targetPort: fc.oneof(fc.constantFrom(1, 80, 65535), fc.integer({ min: 1, max: 65535 })),
      publishedPort: fc.oneof(fc.constantFrom(0, 8080, 30000, 65535), fc.integer({ min: 0, max: 65535 })),
      publishMode: hostOnly ? fc.constant('host') : fc.constantFrom('ingress', 'host'),
    },
    hostOnly ? ['targetPort', 'publishMode'] : ['targetPort'],
  )
}

/** The identity of a published port: `published/protocol`, or `undefined` when the cluster picks the port. */
export function publishedPortKey(port: PortConfig): string | undefined {
  const published = port.publishedPort ?? 0
  return published === 0 ? undefined : `${published}/${port.protocol ?? 'tcp'}`
}

/** Drops every port whose (publishedPort, protocol) repeats an earlier one (publishedPort ≠ 0). */
export function dedupePorts(ports: readonly PortConfig[]): PortConfig[] {
  const seen = new Set<string>()
  return ports.filter((p) => {
    const key = publishedPortKey(p)
    if (key === undefined) return true
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/**
 * A valid {@link EndpointSpec}: no two ports share a non-zero (publishedPort, protocol), and a
 * DNS round-robin endpoint only has `host`-mode ports.
 */
export function arbEndpointSpec(): fc.Arbitrary<EndpointSpec> {
  const vip = rec<EndpointSpec>({ mode: fc.constant('vip'), ports: items(arbPortConfig()).map(dedupePorts) }, [])
  const dnsrr = rec<EndpointSpec>({ mode: fc.constant('dnsrr'), ports: items(arbPortConfig(true)).map(dedupePorts) }, ['mode'])
  return fc.oneof(vip, dnsrr)
}

/** Options of {@link arbServiceSpec}. */
export interface ServiceSpecArbitraryOptions {
  /** The service modes to draw from. @default all four */
  modes?: readonly ServiceModeKind[]
}

/**
 * A valid {@link ServiceSpec}. Jobs never carry `update` or `rollback`.
 */
export function arbServiceSpec(options: ServiceSpecArbitraryOptions = {}): fc.Arbitrary<ServiceSpec> {
  const rest = rec<Omit<ServiceSpec, 'mode'>>(
    {
      annotations: arbAnnotations(),
      task: arbTaskSpec(),
      update: arbUpdateConfig(),
      rollback: arbUpdateConfig(),
      networks: items(arbNetworkAttachmentConfig()),
      endpoint: arbEndpointSpec(),
    },
    ['annotations', 'task'],
  )
  return fc.tuple(arbServiceMode(options.modes), rest).map(([mode, r]): ServiceSpec => {
    const spec: ServiceSpec = { annotations: r.annotations, task: r.task, mode }
    const isJob = 'replicatedJob' in mode || 'globalJob' in mode
    if (r.update !== undefined && !isJob) spec.update = r.update
    if (r.rollback !== undefined && !isJob) spec.rollback = r.rollback
    if (r.networks !== undefined) spec.networks = r.networks
    if (r.endpoint !== undefined) spec.endpoint = r.endpoint
    return spec
  })
}
