/**
 * Validation of node, secret, config, network and cluster specs (SwarmKit's
 * manager/controlapi/{node,secret,config,network,cluster,common}.go). The first problem found
 * throws `InvalidArgumentError` naming its dotted field path; input of the wrong shape is
 * rejected the same way, never with a TypeError.
 */
import { DEFAULT_RAFT_CONFIG, MIN_NODE_CERT_EXPIRY_MS } from './defaults.ts'
import { MAX_SECRET_SIZE, SchedulingStrategy } from './specs.ts'
import type { ClusterSpec, ConfigSpec, NetworkSpec, NodeSpec, SecretSpec } from './specs.ts'
import {
  cidrContainsCidr,
  cidrContainsIp,
  checkAnnotations,
  fieldPath as at,
  indexPath,
  invalid,
  isFields,
  optionalArray,
  optionalBoolean,
  optionalDriver,
  optionalDuration,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringMap,
  parseCidr,
  parseIp,
  requireDnsLabel,
  requireEnum,
  requireNonEmptyString,
  requireObject,
  type Fields,
} from './validate-util.ts'

// ---------------------------------------------------------------- node

/**
 * Checks a node spec: `annotations.name`, when non-empty, is a DNS label; `desiredRole`,
 * `membership` and `availability` are known values.
 */
export function validateNodeSpec(spec: NodeSpec): void {
  const s = requireObject(spec, '')
  checkAnnotations(s['annotations'], 'annotations', (name, field) => {
    if ((optionalString(name, field) ?? '') !== '') requireDnsLabel(name, field)
  })
  requireEnum(s['desiredRole'], 'desiredRole', ['worker', 'manager'])
  requireEnum(s['membership'], 'membership', ['pending', 'accepted'])
  requireEnum(s['availability'], 'availability', ['active', 'pause', 'drain'])
}

// ---------------------------------------------------------------- secret / config

const SECRET_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/
const MAX_SECRET_NAME_LENGTH = 64

function checkSecretName(v: unknown, field: string): void {
  const name = requireNonEmptyString(v, field)
  if (name.length > MAX_SECRET_NAME_LENGTH || !SECRET_NAME.test(name)) {
    invalid(field, `${JSON.stringify(name)} must be 1–64 characters of [a-zA-Z0-9-_.], starting and ending with a letter or digit`)
  }
}

/** Checks name, payload size and drivers shared by secrets and configs; returns the spec object. */
function checkPayloadSpec(spec: unknown, allowEmpty: (s: Fields) => boolean): Fields {
  const s = requireObject(spec, '')
  checkAnnotations(s['annotations'], 'annotations', checkSecretName)
  const data = s['data']
  if (!(data instanceof Uint8Array)) invalid('data', 'must be a Uint8Array')
  if (data.length >= MAX_SECRET_SIZE) invalid('data', `must be smaller than ${MAX_SECRET_SIZE} bytes (500 KiB), got ${data.length}`)
  if (data.length === 0 && !allowEmpty(s)) invalid('data', 'must not be empty')
  optionalDriver(s['templating'], 'templating')
  return s
}

/**
 * Checks a secret spec: name of 1–64 characters of `[a-zA-Z0-9-_.]` (alphanumeric at both
 * ends), data of 1 byte (0 with an external `driver`) to less than 500 KiB, and non-empty
 * driver names.
 */
export function validateSecretSpec(spec: SecretSpec): void {
  const s = checkPayloadSpec(spec, (x) => x['driver'] !== undefined)
  optionalDriver(s['driver'], 'driver')
}

/** Checks a config spec: as a secret's, except that data is never empty and there is no driver. */
export function validateConfigSpec(spec: ConfigSpec): void {
  checkPayloadSpec(spec, () => false)
}

function sameBytes(a: unknown, b: Uint8Array): boolean {
  return a instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i])
}

function sameDriver(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b
  if (!isFields(a) || !isFields(b) || a['name'] !== b['name']) return false
  const ao = isFields(a['options']) ? a['options'] : {}
  const bo = isFields(b['options']) ? b['options'] : {}
  const keys = Object.keys(ao)
  return keys.length === Object.keys(bo).length && keys.every((k) => ao[k] === bo[k])
}

/** Checks that only `annotations.labels` differ between two payload specs; `next` is valid. */
function checkPayloadUpdate(old: unknown, next: SecretSpec | ConfigSpec, drivers: readonly ('templating' | 'driver')[]): void {
  const o = isFields(old) ? old : {}
  const oldName = isFields(o['annotations']) ? o['annotations']['name'] : undefined
  if (oldName !== next.annotations.name) invalid('annotations.name', 'only labels can be updated: the name cannot change')
  if (!sameBytes(o['data'], next.data)) invalid('data', 'only labels can be updated: the data cannot change')
  const n: Fields = next as unknown as Fields
  for (const d of drivers) if (!sameDriver(o[d], n[d])) invalid(d, `only labels can be updated: ${d} cannot change`)
}

/** Checks an update of a secret: `next` is valid and differs from `old` only in `annotations.labels`. */
export function validateSecretUpdate(old: SecretSpec, next: SecretSpec): void {
  validateSecretSpec(next)
  checkPayloadUpdate(old, next, ['templating', 'driver'])
}

/** Checks an update of a config: `next` is valid and differs from `old` only in `annotations.labels`. */
export function validateConfigUpdate(old: ConfigSpec, next: ConfigSpec): void {
  validateConfigSpec(next)
  checkPayloadUpdate(old, next, ['templating'])
}

// ---------------------------------------------------------------- network

/**
 * Checks a network spec: the name is a DNS label; each IPAM config has a valid subnet CIDR,
 * a gateway IP inside it and a range CIDR inside it; an ingress network is not attachable;
 * driver names are non-empty.
 */
export function validateNetworkSpec(spec: NetworkSpec): void {
  const s = requireObject(spec, '')
  checkAnnotations(s['annotations'], 'annotations', requireDnsLabel)
  const ipam = optionalObject(s['ipam'], 'ipam')
  if (ipam !== undefined) {
    const configs = optionalArray(ipam['configs'], 'ipam.configs') ?? []
    configs.forEach((c, i) => checkIpamConfig(c, indexPath('ipam.configs', i)))
    optionalDriver(ipam['driver'], 'ipam.driver')
  }
  const ingress = optionalBoolean(s['ingress'], 'ingress') ?? false
  const attachable = optionalBoolean(s['attachable'], 'attachable') ?? false
  if (ingress && attachable) invalid('attachable', 'an ingress network cannot be attachable')
  optionalDriver(s['driverConfig'], 'driverConfig')
  optionalBoolean(s['ipv6Enabled'], 'ipv6Enabled')
  optionalBoolean(s['internal'], 'internal')
  optionalString(s['configFrom'], 'configFrom')
}

function checkIpamConfig(v: unknown, field: string): void {
  const c = requireObject(v, field)
  optionalEnum(c['family'], at(field, 'family'), ['ipv4', 'ipv6'])
  const subnetText = optionalString(c['subnet'], at(field, 'subnet'))
  const subnet = subnetText === undefined ? undefined : parseCidr(subnetText)
  if (subnetText !== undefined && subnet === undefined) {
    invalid(at(field, 'subnet'), `${JSON.stringify(subnetText)} is not a valid IPv4 or IPv6 CIDR`)
  }
  const gatewayText = optionalString(c['gateway'], at(field, 'gateway'))
  if (gatewayText !== undefined) {
    const gateway = parseIp(gatewayText)
    if (gateway === undefined) invalid(at(field, 'gateway'), `${JSON.stringify(gatewayText)} is not a valid IP address`)
    if (subnet !== undefined && !cidrContainsIp(subnet, gateway)) {
      invalid(at(field, 'gateway'), `${gatewayText} is not inside subnet ${subnetText}`)
    }
  }
  const rangeText = optionalString(c['range'], at(field, 'range'))
  if (rangeText !== undefined) {
    const range = parseCidr(rangeText)
    if (range === undefined) invalid(at(field, 'range'), `${JSON.stringify(rangeText)} is not a valid IPv4 or IPv6 CIDR`)
    if (subnet === undefined) invalid(at(field, 'range'), 'a range needs a subnet to lie in')
    if (!cidrContainsCidr(subnet, range)) invalid(at(field, 'range'), `${rangeText} is not inside subnet ${subnetText}`)
  }
  optionalStringMap(c['reserved'], at(field, 'reserved'))
}

// ---------------------------------------------------------------- cluster

/**
 * Checks a cluster spec: integer settings are safe integers, durations are non-negative, node
 * certificates live at least 1 hour, and Raft's election tick exceeds its heartbeat tick
 * (comparing effective values: an absent tick counts as its default, 1 and 10).
 */
export function validateClusterSpec(spec: ClusterSpec): void {
  const s = requireObject(spec, '')
  checkAnnotations(s['annotations'], 'annotations', (name, field) => optionalString(name, field))
  const orchestration = optionalObject(s['orchestration'], 'orchestration')
  if (orchestration !== undefined) {
    optionalInteger(orchestration['taskHistoryRetentionLimit'], 'orchestration.taskHistoryRetentionLimit')
    optionalEnum(orchestration['schedulingStrategy'], 'orchestration.schedulingStrategy', Object.values(SchedulingStrategy))
  }
  const dispatcher = optionalObject(s['dispatcher'], 'dispatcher')
  if (dispatcher !== undefined) optionalDuration(dispatcher['heartbeatPeriodMs'], 'dispatcher.heartbeatPeriodMs')
  const ca = optionalObject(s['caConfig'], 'caConfig')
  if (ca !== undefined) checkCAConfig(ca)
  const raft = optionalObject(s['raft'], 'raft')
  if (raft !== undefined) checkRaftConfig(raft)
  const taskDefaults = optionalObject(s['taskDefaults'], 'taskDefaults')
  if (taskDefaults !== undefined) optionalDriver(taskDefaults['logDriver'], 'taskDefaults.logDriver')
  const encryption = optionalObject(s['encryptionConfig'], 'encryptionConfig')
  if (encryption !== undefined) optionalBoolean(encryption['autoLockManagers'], 'encryptionConfig.autoLockManagers')
}

function checkCAConfig(ca: Fields): void {
  const expiry = optionalDuration(ca['nodeCertExpiryMs'], 'caConfig.nodeCertExpiryMs')
  if (expiry !== undefined && expiry < MIN_NODE_CERT_EXPIRY_MS) {
    invalid('caConfig.nodeCertExpiryMs', `must be at least ${MIN_NODE_CERT_EXPIRY_MS} ms (1 hour), got ${expiry}`)
  }
  const cas = optionalArray(ca['externalCas'], 'caConfig.externalCas') ?? []
  cas.forEach((x, i) => {
    const f = indexPath('caConfig.externalCas', i)
    const ext = requireObject(x, f)
    requireEnum(ext['protocol'], at(f, 'protocol'), ['cfssl'])
    requireNonEmptyString(ext['url'], at(f, 'url'))
  })
  optionalInteger(ca['forceRotate'], 'caConfig.forceRotate', { min: 0 })
}

function checkRaftConfig(raft: Fields): void {
  const heartbeat = optionalInteger(raft['heartbeatTick'], 'raft.heartbeatTick', { min: 1 }) ?? DEFAULT_RAFT_CONFIG.heartbeatTick
  const election = optionalInteger(raft['electionTick'], 'raft.electionTick') ?? DEFAULT_RAFT_CONFIG.electionTick
  if (election <= heartbeat) {
    invalid('raft.electionTick', `must be greater than heartbeatTick (${heartbeat}), got ${election}`)
  }
  optionalInteger(raft['snapshotInterval'], 'raft.snapshotInterval', { min: 0 })
  optionalInteger(raft['keepOldSnapshots'], 'raft.keepOldSnapshots', { min: 0 })
  optionalInteger(raft['logEntriesForSlowFollowers'], 'raft.logEntriesForSlowFollowers', { min: 0 })
}
