import { isIPv4, isIPv6 } from 'node:net'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { parseImageReference } from './image-reference.ts'
import type { RuntimeContainerSpec, RuntimeCapabilities } from '../runtime.ts'

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535
const isPositiveInt = (n: number): boolean => Number.isSafeInteger(n) && n > 0
const isPositive = (n: number): boolean => Number.isFinite(n) && n > 0

/**
 * Checks a {@link RuntimeContainerSpec} against the contract's rules and the runtime's capabilities,
 * throwing `InvalidArgumentError` naming the first offending field. Every runtime calls this at
 * the start of `create`, so all of them reject the same specs the same way.
 *
 * Rules: `image` a well-formed reference (Docker's grammar, see `parseImageReference`); `name` (when given) matches `[A-Za-z0-9][A-Za-z0-9_.-]*`; `command`
 * non-empty when given; `env` keys non-empty without `=` or NUL; `workingDir` absolute; `files[i].target`
 * absolute, not `/`, unique; `files[i].mode` an integer 0–0o7777; `uid`/`gid` non-negative integers;
 * `resources.memoryBytes` a positive integer and `resources.nanoCpus` a positive integer, each only
 * with its capability; `ports` only with the capability, each `target`/`published` 1–65535 (published
 * may be 0 = allocate), no duplicate target; `healthcheck` only with the capability, `test` either
 * `['CMD', exe, ...]` or `['CMD-SHELL', script]`, positive interval/timeout, retries ≥ 1,
 * startPeriodMs ≥ 0; `networks` only with the capability, each `network` non-empty, unique and
 * not a network mode (`host`, `none`, `container:…`),
 * `ipv4Address`/`ipv6Address` plain addresses of their family, `aliases` non-empty without whitespace.
 */
export function validateRuntimeContainerSpec(spec: RuntimeContainerSpec, capabilities: RuntimeCapabilities): void {
  parseImageReference(spec.image, 'image')
  if (spec.name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(spec.name)) {
    throw new InvalidArgumentError('name', 'must match [A-Za-z0-9][A-Za-z0-9_.-]*')
  }
  if (spec.command !== undefined && spec.command.length === 0) throw new InvalidArgumentError('command', 'must not be empty when given')
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (key === '' || key.includes('=') || key.includes('\0')) throw new InvalidArgumentError(`env.${key}`, 'variable names must be non-empty and contain no "=" or NUL')
    if (value.includes('\0')) throw new InvalidArgumentError(`env.${key}`, 'value must not contain NUL')
  }
  if (spec.workingDir !== undefined && !spec.workingDir.startsWith('/')) throw new InvalidArgumentError('workingDir', 'must be an absolute path')
  const targets = new Set<string>()
  ;(spec.files ?? []).forEach((file, i) => {
    const f = `files[${i}]`
    if (!file.target.startsWith('/') || file.target === '/' || file.target.endsWith('/') || file.target.split('/').includes('..')) {
      throw new InvalidArgumentError(`${f}.target`, 'must be an absolute file path without ".."')
    }
    if (targets.has(file.target)) throw new InvalidArgumentError(`${f}.target`, `duplicate target ${file.target}`)
    targets.add(file.target)
    if (file.mode !== undefined && !(Number.isInteger(file.mode) && file.mode >= 0 && file.mode <= 0o7777)) {
      throw new InvalidArgumentError(`${f}.mode`, 'must be an integer between 0 and 0o7777')
    }
    if (file.uid !== undefined && !(Number.isSafeInteger(file.uid) && file.uid >= 0)) throw new InvalidArgumentError(`${f}.uid`, 'must be a non-negative integer')
    if (file.gid !== undefined && !(Number.isSafeInteger(file.gid) && file.gid >= 0)) throw new InvalidArgumentError(`${f}.gid`, 'must be a non-negative integer')
  })
  const res = spec.resources
  if (res?.memoryBytes !== undefined) {
    if (!capabilities.memoryLimit) throw new InvalidArgumentError('resources.memoryBytes', 'memory limits are not supported by this runtime')
    if (!isPositiveInt(res.memoryBytes)) throw new InvalidArgumentError('resources.memoryBytes', 'must be a positive integer')
  }
  if (res?.nanoCpus !== undefined) {
    if (!capabilities.cpuLimit) throw new InvalidArgumentError('resources.nanoCpus', 'CPU limits are not supported by this runtime')
    if (!isPositiveInt(res.nanoCpus)) throw new InvalidArgumentError('resources.nanoCpus', 'must be a positive integer')
  }
  if (spec.ports !== undefined && spec.ports.length > 0) {
    if (!capabilities.ports) throw new InvalidArgumentError('ports', 'published ports are not supported by this runtime')
    const seen = new Set<string>()
    spec.ports.forEach((p, i) => {
      if (!isPort(p.target)) throw new InvalidArgumentError(`ports[${i}].target`, 'must be a port number 1-65535')
      if (p.published !== undefined && p.published !== 0 && !isPort(p.published)) throw new InvalidArgumentError(`ports[${i}].published`, 'must be 0 or a port number 1-65535')
      if (p.protocol !== undefined && p.protocol !== 'tcp' && p.protocol !== 'udp') throw new InvalidArgumentError(`ports[${i}].protocol`, 'must be tcp or udp')
      const key = `${p.target}/${p.protocol ?? 'tcp'}`
      if (seen.has(key)) throw new InvalidArgumentError(`ports[${i}].target`, `duplicate port ${key}`)
      seen.add(key)
    })
  }
  const hc = spec.healthcheck
  if (hc !== undefined) {
    if (!capabilities.healthcheck) throw new InvalidArgumentError('healthcheck', 'health checks are not supported by this runtime')
    const [kind, ...rest] = hc.test
    const ok = (kind === 'CMD' && rest.length >= 1 && rest[0] !== '') || (kind === 'CMD-SHELL' && rest.length === 1 && rest[0] !== '')
    if (!ok) throw new InvalidArgumentError('healthcheck.test', "must be ['CMD', exe, ...args] or ['CMD-SHELL', script]")
    if (hc.intervalMs !== undefined && !isPositive(hc.intervalMs)) throw new InvalidArgumentError('healthcheck.intervalMs', 'must be positive')
    if (hc.timeoutMs !== undefined && !isPositive(hc.timeoutMs)) throw new InvalidArgumentError('healthcheck.timeoutMs', 'must be positive')
    if (hc.retries !== undefined && !(Number.isSafeInteger(hc.retries) && hc.retries >= 1)) throw new InvalidArgumentError('healthcheck.retries', 'must be an integer >= 1')
    if (hc.startPeriodMs !== undefined && !(Number.isFinite(hc.startPeriodMs) && hc.startPeriodMs >= 0)) throw new InvalidArgumentError('healthcheck.startPeriodMs', 'must be >= 0')
  }
  validateNetworks(spec, capabilities)
}

function validateNetworks(spec: RuntimeContainerSpec, capabilities: RuntimeCapabilities): void {
  if (spec.networks === undefined || spec.networks.length === 0) return
  if (capabilities.networks !== true) throw new InvalidArgumentError('networks', 'networks are not supported by this runtime')
  const seen = new Set<string>()
  spec.networks.forEach((n, i) => {
    const f = `networks[${i}]`
    if (typeof n.network !== 'string' || n.network === '') throw new InvalidArgumentError(`${f}.network`, 'must be a non-empty network name or id')
    if (n.network === 'host' || n.network === 'none' || n.network.startsWith('container:')) {
      throw new InvalidArgumentError(`${f}.network`, `${n.network} is a network mode, not a network to join`)
    }
    if (seen.has(n.network)) throw new InvalidArgumentError(`${f}.network`, `duplicate network ${n.network}`)
    seen.add(n.network)
    if (n.ipv4Address !== undefined && !isIPv4(n.ipv4Address)) throw new InvalidArgumentError(`${f}.ipv4Address`, 'must be an IPv4 address without a prefix length')
    if (n.ipv6Address !== undefined && !isIPv6(n.ipv6Address)) throw new InvalidArgumentError(`${f}.ipv6Address`, 'must be an IPv6 address without a prefix length')
    ;(n.aliases ?? []).forEach((a, j) => {
      if (typeof a !== 'string' || a === '' || /\s/.test(a)) throw new InvalidArgumentError(`${f}.aliases[${j}]`, 'must be a non-empty name without whitespace')
    })
  })
}

/** Healthcheck defaults of the contract, applied by runtimes that run probes themselves. */
export const HEALTHCHECK_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 } as const

/** Default grace period of `stop`, in ms. */
export const DEFAULT_STOP_GRACE_MS = 10_000

/** True when `labels` carries every entry of `filter`. */
export function matchesLabels(labels: Readonly<Record<string, string>>, filter: Readonly<Record<string, string>> | undefined): boolean {
  if (filter === undefined) return true
  for (const [k, v] of Object.entries(filter)) if (labels[k] !== v) return false
  return true
}
