import fc from 'fast-check'
import type { EndpointMode, PortConfig, PortProtocol, PublishMode, ServiceMode, ServiceSpec, UpdateConfig, UpdateFailureAction, UpdateOrder } from '@swarmkit-ts/api'
import { arbNotNonNegativeInteger, arbUnknownEnum, insertAt, type InvalidSpec } from './invalid-common.ts'
import { taskSpecBreakers } from './invalid-task-spec.ts'
import { charsOf } from './primitives.ts'
import { arbPortConfig, arbServiceSpec, arbUpdateConfig, dedupePorts, publishedPortKey } from './service-spec.ts'

type Broken = InvalidSpec<ServiceSpec>

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split('')

/** Names that are not DNS labels: empty, 64+ characters, bad characters or separators at an end. */
export function arbInvalidDnsLabel(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(''),
    charsOf(ALNUM, 64, 80),
    fc.constantFrom('-web', 'web-', '_web', 'web_', 'web.app', 'web app', 'wéb', 'web/1', 'a--', ' web'),
  )
}

/** Rules 1 and 2: annotations and mode. */
function annotationModeBreakers(): fc.Arbitrary<Broken>[] {
  return [
    fc.tuple(arbServiceSpec(), arbInvalidDnsLabel()).map(([s, name]): Broken => ({
      spec: { ...s, annotations: { ...s.annotations, name } },
      field: 'annotations.name',
      rule: 'name-not-dns-label',
    })),
    fc.tuple(arbServiceSpec(), fc.string({ maxLength: 5 })).map(([s, v]): Broken => ({
      spec: { ...s, annotations: { ...s.annotations, labels: { ...s.annotations.labels, '': v } } },
      field: 'annotations.labels',
      rule: 'label-key-empty',
    })),
    fc
      .tuple(
        arbServiceSpec(),
        fc.constantFrom<object>({}, { replicated: {}, global: {} }, { daemon: {} }, { global: {}, globalJob: {} }),
      )
      .map(([s, mode]): Broken => ({
        spec: { ...s, mode: mode as ServiceMode }, // cast: not exactly one known mode, on purpose
        field: 'mode',
        rule: 'mode-not-exactly-one',
      })),
    fc.tuple(arbServiceSpec(), arbNotNonNegativeInteger()).map(([s, replicas]): Broken => ({
      spec: { ...s, mode: { replicated: { replicas } } },
      field: 'mode.replicated.replicas',
      rule: 'replicas-negative',
    })),
    fc
      .tuple(arbServiceSpec(), fc.constantFrom('maxConcurrent', 'totalCompletions'), arbNotNonNegativeInteger(), fc.nat(10))
      .map(([s, key, bad, other]): Broken => {
        const { update: _u, rollback: _r, ...rest } = s
        const job = key === 'maxConcurrent' ? { maxConcurrent: bad, totalCompletions: other } : { maxConcurrent: other, totalCompletions: bad }
        return { spec: { ...rest, mode: { replicatedJob: job } }, field: `mode.replicatedJob.${key}`, rule: 'job-count-negative' }
      }),
    fc
      .tuple(
        arbServiceSpec(),
        fc.constantFrom('replicatedJob', 'globalJob'),
        fc.constantFrom('', '* * *', '61 * * * *', '* * * * 8', 'every minute', '0 0 30 2 *'),
        fc.option(fc.constantFrom('UTC', 'Europe/Paris'), { nil: undefined }),
      )
      .map(([s, kind, cron, timeZone]): Broken => {
        const { update: _u, rollback: _r, ...rest } = s
        const schedule = timeZone === undefined ? { cron } : { cron, timeZone }
        const mode: ServiceMode = kind === 'replicatedJob' ? { replicatedJob: { schedule } } : { globalJob: { schedule } }
        return { spec: { ...rest, mode }, field: `mode.${kind}.schedule.cron`, rule: 'job-schedule-cron-invalid' }
      }),
    fc
      .tuple(arbServiceSpec(), fc.constantFrom('replicatedJob', 'globalJob'), fc.constantFrom('', 'Mars/Olympus', 'Europe/Pariss', '+01:00', 'GMT+25'))
      .map(([s, kind, timeZone]): Broken => {
        const { update: _u, rollback: _r, ...rest } = s
        const schedule = { cron: '*/5 * * * *', timeZone }
        const mode: ServiceMode = kind === 'replicatedJob' ? { replicatedJob: { schedule } } : { globalJob: { schedule } }
        return { spec: { ...rest, mode }, field: `mode.${kind}.schedule.timeZone`, rule: 'job-schedule-zone-unknown' }
      }),
  ]
}

/** One broken field of an update config. */
interface BadUpdate {
  key: string
  patch: UpdateConfig
}

/** Rules 8 and 9: update / rollback configs, and jobs without them. */
function updateBreakers(): fc.Arbitrary<Broken>[] {
  const which = fc.constantFrom('update', 'rollback')
  const badField = fc.oneof(
    fc.tuple(fc.constantFrom('parallelism', 'delayMs', 'monitorMs'), arbNotNonNegativeInteger()).map(([key, v]): BadUpdate => ({ key, patch: { [key]: v } })),
    fc
      .oneof(fc.double({ min: 1, minExcluded: true, max: 1e9, noNaN: true }), fc.constantFrom(-0.5, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY))
      .map((maxFailureRatio): BadUpdate => ({ key: 'maxFailureRatio', patch: { maxFailureRatio } })),
    arbUnknownEnum().map((v) => ({ key: 'failureAction', patch: { failureAction: v as UpdateFailureAction } })), // cast on purpose
    arbUnknownEnum().map((v) => ({ key: 'order', patch: { order: v as UpdateOrder } })), // cast on purpose
  )
  return [
    fc.tuple(arbServiceSpec(), which, arbUpdateConfig(), badField).map(([s, w, fallback, bad]): Broken => ({
      spec: { ...s, [w]: { ...(s[w] ?? fallback), ...bad.patch } },
      field: `${w}.${bad.key}`,
      rule: `update-config-${bad.key}`,
    })),
    fc.tuple(arbServiceSpec({ modes: ['replicatedJob', 'globalJob'] }), arbUpdateConfig(), fc.option(arbUpdateConfig(), { nil: undefined })).map(
      ([s, update, rollback]): Broken => ({
        spec: rollback === undefined ? { ...s, update } : { ...s, update, rollback },
        field: 'update',
        rule: 'job-with-update',
      }),
    ),
    fc.tuple(arbServiceSpec({ modes: ['replicatedJob', 'globalJob'] }), arbUpdateConfig()).map(([s, rollback]): Broken => ({
      spec: { ...s, rollback },
      field: 'rollback',
      rule: 'job-with-rollback',
    })),
  ]
}

/** Rule 10: the endpoint. */
function endpointBreakers(): fc.Arbitrary<Broken>[] {
  const badPort = fc.oneof(
    fc.tuple(arbPortConfig(), fc.oneof(fc.constantFrom(0, 65536, -1, 80.5), fc.integer({ min: 65536, max: 10_000_000 }))).map(([p, targetPort]) => ({
      port: { ...p, targetPort },
      key: 'targetPort',
    })),
    fc.tuple(arbPortConfig(), fc.oneof(fc.constantFrom(-1, 65536, 8080.5, Number.NaN), fc.integer({ min: 65536, max: 10_000_000 }))).map(([p, publishedPort]) => ({
      port: { ...p, publishedPort },
      key: 'publishedPort',
    })),
    fc.tuple(arbPortConfig(), arbUnknownEnum()).map(([p, protocol]) => ({ port: { ...p, protocol: protocol as PortProtocol }, key: 'protocol' })), // cast on purpose
    fc.tuple(arbPortConfig(), arbUnknownEnum()).map(([p, publishMode]) => ({ port: { ...p, publishMode: publishMode as PublishMode }, key: 'publishMode' })), // cast on purpose
  )
  return [
    fc.tuple(arbServiceSpec(), arbUnknownEnum()).map(([s, mode]): Broken => ({
      spec: { ...s, endpoint: { ...s.endpoint, mode: mode as EndpointMode } }, // cast on purpose
      field: 'endpoint.mode',
      rule: 'endpoint-mode-unknown',
    })),
    fc.tuple(arbServiceSpec(), fc.nat(), badPort).map(([s, at, bad]): Broken => {
      const { list, index } = insertAt(s.endpoint?.ports, at, bad.port)
      return { spec: { ...s, endpoint: { ...s.endpoint, ports: list } }, field: `endpoint.ports[${index}].${bad.key}`, rule: `port-${bad.key}-invalid` }
    }),
    fc
      .tuple(arbServiceSpec(), arbPortConfig(), fc.constantFrom(undefined, 'ingress' as const), fc.array(arbPortConfig(true), { maxLength: 2 }))
      .map(([s, p, publishMode, hostPorts]): Broken => {
        const { publishMode: _m, ...rest } = p
        const ingress: PortConfig = publishMode === undefined ? rest : { ...rest, publishMode }
        return { spec: { ...s, endpoint: { mode: 'dnsrr', ports: dedupePorts([ingress, ...hostPorts]) } }, field: 'endpoint.mode', rule: 'dnsrr-with-ingress-port' }
      }),
    fc
      .tuple(
        arbServiceSpec(),
        fc.constantFrom(undefined, 'vip' as const, 'dnsrr' as const),
        fc.array(arbPortConfig(), { maxLength: 3 }),
        arbPortConfig(),
        fc.integer({ min: 1, max: 65535 }),
        arbPortConfig(),
        fc.boolean(),
      )
      .map(([s, mode, others, first, published, second, explicitTcp]): Broken => {
        const p: PortConfig = { ...first, publishedPort: published }
        const tcp = (p.protocol ?? 'tcp') === 'tcp'
        const { protocol: _pr, ...secondRest } = second
        // The duplicate repeats (publishedPort, protocol), spelling the default tcp either way.
        const dup: PortConfig = tcp ? (explicitTcp ? { ...secondRest, protocol: 'tcp', publishedPort: published } : { ...secondRest, publishedPort: published }) : { ...secondRest, protocol: p.protocol ?? 'tcp', publishedPort: published }
        const key = publishedPortKey(p)
        const prefix = dedupePorts(others).filter((o) => publishedPortKey(o) !== key)
        let ports = [...prefix, p, dup]
        if (mode === 'dnsrr') ports = ports.map((x) => ({ ...x, publishMode: 'host' as const }))
        const endpoint = mode === undefined ? { ports } : { mode, ports }
        return { spec: { ...s, endpoint }, field: `endpoint.ports[${prefix.length + 1}].publishedPort`, rule: 'duplicate-published-port' }
      }),
  ]
}

/**
 * A service spec that breaks exactly one rule of `validateServiceSpec` (rules 1–10 of the
 * validation contract), with the field the validator must name. The rest of the spec is valid,
 * so no earlier-checked rule fails first. Some values are cast past the TypeScript types (unknown
 * enum strings, modes with several keys) because that is what is being tested.
 */
export function arbInvalidServiceSpec(): fc.Arbitrary<InvalidSpec<ServiceSpec>> {
  return fc.oneof(...annotationModeBreakers(), ...taskSpecBreakers(), ...updateBreakers(), ...endpointBreakers())
}
