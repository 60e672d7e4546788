/**
 * The name forms the resolver answers, and the small conversions its tables need: query names
 * normalised (any case, trailing dot), `tasks.<service>`, SRV owner names
 * `_<port name>._<protocol>.<service>`, task names `<service>.<slot>.<task id>`, and CIDR-style
 * store addresses split into an IP and its family.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import type { NetworkAttachment, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'

/** The prefix Docker's embedded DNS gives the name that lists a service's tasks. */
export const TASKS_PREFIX = 'tasks.'

/** A query name as the tables key it: lower case, without the trailing dot of a fully qualified name. */
export function normalizeName(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name
  return n.toLowerCase()
}

/** An SRV owner name split into its parts: `_http._tcp.web` → `{ portName: 'http', protocol: 'tcp', rest: 'web' }`. */
export interface SrvName {
  readonly portName: string
  readonly protocol: string
  /** What follows the protocol label: a service name or alias, maybe qualified by a network. */
  readonly rest: string
}

/** Parses an SRV owner name (already normalised); undefined when it is not of the RFC 2782 form. */
export function parseSrvName(name: string): SrvName | undefined {
  if (!name.startsWith('_')) return undefined
  const dot1 = name.indexOf('.')
  if (dot1 < 2 || name[dot1 + 1] !== '_') return undefined
  const dot2 = name.indexOf('.', dot1 + 1)
  if (dot2 < dot1 + 3 || dot2 === name.length - 1) return undefined
  return { portName: name.slice(1, dot1), protocol: name.slice(dot1 + 2, dot2), rest: name.slice(dot2 + 1) }
}

/**
 * The name Docker gives a task's container, which its embedded DNS resolves:
 * `<service>.<slot>.<task id>` for a replicated task, `<service>.<node id>.<task id>` for a
 * global one (slot 0). Lower case, as the tables key it.
 */
export function taskName(task: Frozen<Task>): string {
  const middle = task.slot !== 0 ? String(task.slot) : task.nodeId
  return `${task.serviceAnnotations.name}.${middle}.${task.id}`.toLowerCase()
}

/**
 * Whether a task answers for its service: running (a task with a healthcheck reports RUNNING
 * only once healthy) and not asked to stop.
 */
export function isBackend(task: Frozen<Task>): boolean {
  return task.status.state === TaskState.RUNNING && task.desiredState <= TaskState.RUNNING
}

/** One address of a task or service on one network, without its prefix length. */
export interface NetAddress {
  readonly networkId: string
  readonly ip: string
  readonly v6: boolean
}

/** `'10.0.1.5/24'` → `{ ip: '10.0.1.5', v6: false }` (an address without a prefix is taken as is). */
export function splitCidr(networkId: string, cidr: string): NetAddress {
  const slash = cidr.indexOf('/')
  const ip = slash < 0 ? cidr : cidr.slice(0, slash)
  return { networkId, ip, v6: ip.includes(':') }
}

/** Every address of a task's attachments, prefixes dropped. */
export function taskAddresses(networks: Frozen<readonly NetworkAttachment[]> | undefined): NetAddress[] {
  const out: NetAddress[] = []
  for (const att of networks ?? []) for (const a of att.addresses ?? []) out.push(splitCidr(att.networkId, a))
  return out
}

/**
 * Whether a task update changes what the resolver answers: its backend state, its addresses or
 * its name. The store filters on this before queueing (most task updates are status reports).
 */
export function taskChangeMatters(before: Frozen<Task> | undefined, after: Frozen<Task>): boolean {
  if (before === undefined) return true
  if (isBackend(before) !== isBackend(after)) return true
  if (before.serviceId !== after.serviceId || before.slot !== after.slot || before.nodeId !== after.nodeId) return true
  if (before.serviceAnnotations.name !== after.serviceAnnotations.name) return true
  if (before.networks === after.networks) return false
  const a = taskAddresses(before.networks)
  const b = taskAddresses(after.networks)
  return a.length !== b.length || a.some((x, i) => x.ip !== b[i]?.ip || x.networkId !== b[i]?.networkId)
}
