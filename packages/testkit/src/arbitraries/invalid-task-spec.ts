import fc from 'fast-check'
import type {
  ConfigReference,
  ContainerSpec,
  GenericResource,
  HealthConfig,
  Mount,
  MountType,
  ResourceRequirements,
  Resources,
  RestartCondition,
  RestartPolicy,
  SecretReference,
  ServiceSpec,
} from '@swarmkit-ts/api'
import { arbConfigReference, arbContainerSpec, arbMount, arbSecretReference } from './container-spec.ts'
import {
  arbNotNonNegativeInteger,
  arbUnknownEnum,
  insertAt,
  taskWithoutRuntime,
  withContainer,
  withTask,
  type InvalidSpec,
} from './invalid-common.ts'
import { arbServiceSpec } from './service-spec.ts'
import { arbNetworkAttachmentConfig } from './task-spec.ts'

type Broken = InvalidSpec<ServiceSpec>

/** A service spec together with a container to use when its task has none. */
const base = (): fc.Arbitrary<[ServiceSpec, ContainerSpec]> => fc.tuple(arbServiceSpec(), arbContainerSpec())

/** Rule 3: runtimes and their required fields. */
function runtimeBreakers(): fc.Arbitrary<Broken>[] {
  return [
    arbServiceSpec().map((s): Broken => ({ spec: withTask(s, taskWithoutRuntime), field: 'task', rule: 'task-no-runtime' })),
    base().map(([s, c]): Broken => ({
      spec: withTask(s, (t) => ({ ...taskWithoutRuntime(t), container: t.container ?? c, generic: { kind: 'custom' } })),
      field: 'task',
      rule: 'task-two-runtimes',
    })),
    fc.tuple(base(), fc.constantFrom('', 'nginx latest', ' nginx', 'nginx\t', 'a\nb')).map(([[s, c], image]): Broken => ({
      spec: withContainer(s, c, (x) => ({ ...x, image })),
      field: 'task.container.image',
      rule: 'image-empty-or-whitespace',
    })),
    arbServiceSpec().map((s): Broken => ({
      spec: withTask(s, (t) => ({ ...taskWithoutRuntime(t), generic: { kind: '' } })),
      field: 'task.generic.kind',
      rule: 'generic-kind-empty',
    })),
    arbServiceSpec().map((s): Broken => ({
      spec: withTask(s, (t) => ({ ...taskWithoutRuntime(t), attachment: { containerId: '' } })),
      field: 'task.attachment.containerId',
      rule: 'attachment-container-id-empty',
    })),
  ]
}

/** Rule 4: resources. */
function resourceBreakers(): fc.Arbitrary<Broken>[] {
  const which = fc.constantFrom('limits', 'reservations')
  const setResources = (s: ServiceSpec, patch: (r: ResourceRequirements) => ResourceRequirements): ServiceSpec =>
    withTask(s, (t) => ({ ...t, resources: patch(t.resources ?? {}) }))
  const setIn = (s: ServiceSpec, w: 'limits' | 'reservations', patch: Resources): ServiceSpec =>
    setResources(s, (r) => ({ ...r, [w]: { ...r[w], ...patch } }))
  return [
    fc.tuple(arbServiceSpec(), which, fc.oneof(fc.integer({ min: 1, max: 999_999 }), arbNotNonNegativeInteger())).map(([s, w, nanoCpus]): Broken => ({
      spec: setIn(s, w, { nanoCpus }),
      field: `task.resources.${w}.nanoCpus`,
      rule: 'nano-cpus-below-minimum',
    })),
    fc.tuple(arbServiceSpec(), which, fc.oneof(fc.integer({ min: 1, max: 4 * 1024 * 1024 - 1 }), arbNotNonNegativeInteger())).map(([s, w, memoryBytes]): Broken => ({
      spec: setIn(s, w, { memoryBytes }),
      field: `task.resources.${w}.memoryBytes`,
      rule: 'memory-below-minimum',
    })),
    fc.tuple(arbServiceSpec(), arbNotNonNegativeInteger()).map(([s, swapBytes]): Broken => ({
      spec: setResources(s, (r) => ({ ...r, swapBytes })),
      field: 'task.resources.swapBytes',
      rule: 'swap-negative',
    })),
    fc.tuple(arbServiceSpec(), fc.oneof(fc.integer({ min: 101, max: 1_000_000 }), arbNotNonNegativeInteger())).map(([s, memorySwappiness]): Broken => ({
      spec: setResources(s, (r) => ({ ...r, memorySwappiness })),
      field: 'task.resources.memorySwappiness',
      rule: 'swappiness-out-of-range',
    })),
    fc.tuple(arbServiceSpec(), which, fc.nat(), fc.integer({ min: -1_000_000, max: -1 })).map(([s, w, at, discreteValue]): Broken => {
      const spec = s.task.resources?.[w]?.generic
      const { list, index } = insertAt<GenericResource>(spec, at, { kind: 'gpu', discreteValue })
      return { spec: setIn(s, w, { generic: list }), field: `task.resources.${w}.generic[${index}].discreteValue`, rule: 'generic-resource-negative' }
    }),
  ]
}

/** Rules 5 and 6: restart policy and placement. */
function restartPlacementBreakers(): fc.Arbitrary<Broken>[] {
  const setRestart = (s: ServiceSpec, patch: RestartPolicy): ServiceSpec => withTask(s, (t) => ({ ...t, restart: { ...t.restart, ...patch } }))
  return [
    fc.tuple(arbServiceSpec(), arbUnknownEnum()).map(([s, condition]): Broken => ({
      spec: setRestart(s, { condition: condition as RestartCondition }), // cast: an unknown enum value on purpose
      field: 'task.restart.condition',
      rule: 'restart-condition-unknown',
    })),
    fc.tuple(arbServiceSpec(), fc.constantFrom('delayMs', 'windowMs', 'maxAttempts'), arbNotNonNegativeInteger()).map(([s, key, v]): Broken => ({
      spec: setRestart(s, { [key]: v }),
      field: `task.restart.${key}`,
      rule: 'restart-negative',
    })),
    fc
      .tuple(arbServiceSpec(), fc.nat(), fc.constantFrom('node.role', 'node.role = manager', '== manager', 'node.hostname ==', '', 'node.labels.zone ~ east'))
      .map(([s, at, bad]): Broken => {
        const { list, index } = insertAt(s.task.placement?.constraints, at, bad)
        return {
          spec: withTask(s, (t) => ({ ...t, placement: { ...t.placement, constraints: list } })),
          field: `task.placement.constraints[${index}]`,
          rule: 'constraint-unparsable',
        }
      }),
    fc.tuple(arbServiceSpec(), fc.nat(), fc.constantFrom('node.labels.', 'engine.labels.', 'node.role', 'labels.zone', 'node.label.zone', '')).map(([s, at, bad]): Broken => {
      const { list, index } = insertAt(s.task.placement?.preferences, at, { spread: { spreadDescriptor: bad } })
      return {
        spec: withTask(s, (t) => ({ ...t, placement: { ...t.placement, preferences: list } })),
        field: `task.placement.preferences[${index}].spread.spreadDescriptor`,
        rule: 'spread-descriptor-invalid',
      }
    }),
    fc.tuple(arbServiceSpec(), arbNotNonNegativeInteger()).map(([s, maxReplicas]): Broken => ({
      spec: withTask(s, (t) => ({ ...t, placement: { ...t.placement, maxReplicas } })),
      field: 'task.placement.maxReplicas',
      rule: 'max-replicas-negative',
    })),
  ]
}

/** Rule 7: the container and task networks. */
function containerBreakers(): fc.Arbitrary<Broken>[] {
  const healthKey = fc.constantFrom<keyof HealthConfig>('intervalMs', 'timeoutMs', 'startPeriodMs', 'startIntervalMs', 'retries')
  const badMount = fc.oneof(
    fc.tuple(arbMount(), fc.constantFrom('', 'data', 'relative/path', './x')).map(([m, target]) => ({ mount: { ...m, target }, key: 'target', rule: 'mount-target-not-absolute' })),
    fc.tuple(arbMount(), arbUnknownEnum()).map(([m, type]) => ({ mount: { ...m, type: type as MountType }, key: 'type', rule: 'mount-type-unknown' })), // cast on purpose
    fc.tuple(arbMount(), fc.constantFrom(undefined, '')).map(([m, source]) => {
      const { source: _s, bindOptions: _b, volumeOptions: _v, tmpfsOptions: _t, ...rest } = m
      const mount: Mount = source === undefined ? { ...rest, type: 'bind' } : { ...rest, type: 'bind', source }
      return { mount, key: 'source', rule: 'bind-mount-without-source' }
    }),
  )
  const badSecret = fc.oneof(
    arbSecretReference().map((r) => ({ ref: { ...r, secretId: '' }, key: 'secretId' })),
    arbSecretReference().map((r) => ({ ref: { ...r, secretName: '' }, key: 'secretName' })),
    arbSecretReference().map((r) => ({ ref: { ...r, file: { ...r.file, name: '' } }, key: 'file.name' })),
    fc.tuple(arbSecretReference(), fc.oneof(fc.integer({ min: 0o10000, max: 1_000_000 }), arbNotNonNegativeInteger())).map(([r, mode]) => ({
      ref: { ...r, file: { ...r.file, mode } },
      key: 'file.mode',
    })),
  )
  const badConfig = fc.oneof(
    arbConfigReference().map((r) => ({ ref: { ...r, configId: '' }, key: 'configId' })),
    arbConfigReference().map((r) => ({ ref: { ...r, configName: '' }, key: 'configName' })),
    fc.tuple(arbConfigReference(), fc.integer({ min: 0o10000, max: 1_000_000 })).map(([r, mode]) => {
      const { runtime: _r, ...rest } = r
      const ref: ConfigReference = { ...rest, file: { name: 'app.conf', ...r.file, mode } }
      return { ref, key: 'file.mode' }
    }),
  )
  return [
    fc.tuple(base(), arbNotNonNegativeInteger()).map(([[s, c], stopGracePeriodMs]): Broken => ({
      spec: withContainer(s, c, (x) => ({ ...x, stopGracePeriodMs })),
      field: 'task.container.stopGracePeriodMs',
      rule: 'stop-grace-period-negative',
    })),
    fc.tuple(base(), healthKey, arbNotNonNegativeInteger()).map(([[s, c], key, v]): Broken => ({
      spec: withContainer(s, c, (x) => ({ ...x, healthcheck: { ...x.healthcheck, [key]: v } })),
      field: `task.container.healthcheck.${key}`,
      rule: 'healthcheck-negative',
    })),
    fc.tuple(base(), fc.nat(), badMount).map(([[s, c], at, bad]): Broken => {
      let index = 0
      const spec = withContainer(s, c, (x) => {
        const r = insertAt(x.mounts, at, bad.mount)
        index = r.index
        return { ...x, mounts: r.list }
      })
      return { spec, field: `task.container.mounts[${index}].${bad.key}`, rule: bad.rule }
    }),
    fc.tuple(base(), fc.nat(), badSecret).map(([[s, c], at, bad]): Broken => {
      let index = 0
      const spec = withContainer(s, c, (x) => {
        const r = insertAt<SecretReference>(x.secrets, at, bad.ref)
        index = r.index
        return { ...x, secrets: r.list }
      })
      return { spec, field: `task.container.secrets[${index}].${bad.key}`, rule: 'secret-reference-invalid' }
    }),
    fc.tuple(base(), fc.nat(), badConfig).map(([[s, c], at, bad]): Broken => {
      let index = 0
      const spec = withContainer(s, c, (x) => {
        const r = insertAt<ConfigReference>(x.configs, at, bad.ref)
        index = r.index
        return { ...x, configs: r.list }
      })
      return { spec, field: `task.container.configs[${index}].${bad.key}`, rule: 'config-reference-invalid' }
    }),
    fc.tuple(arbServiceSpec(), fc.nat(), arbNetworkAttachmentConfig()).map(([s, at, n]): Broken => {
      const { list, index } = insertAt(s.task.networks, at, { ...n, target: '' })
      return { spec: withTask(s, (t) => ({ ...t, networks: list })), field: `task.networks[${index}].target`, rule: 'task-network-target-empty' }
    }),
  ]
}

/** Breakers of rules 3–7 (everything under `task`), each producing a service spec with exactly one broken rule. */
export function taskSpecBreakers(): fc.Arbitrary<Broken>[] {
  return [...runtimeBreakers(), ...resourceBreakers(), ...restartPlacementBreakers(), ...containerBreakers()]
}
