/**
 * The resolver's name tables: networks, services and tasks as the DNS sees them, kept up to
 * date object by object, and the lookup that answers a name from the networks of a scope.
 * Pure and synchronous (no clock, no randomness); {@link ServiceResolver} feeds it from the store.
 *
 * @module
 */
import type { Network, Service, Task } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import {
  TASKS_PREFIX,
  isBackend,
  normalizeName,
  parseSrvName,
  splitCidr,
  taskAddresses,
  taskName,
} from './resolver-names.ts'
import type { NetAddress } from './resolver-names.ts'
import type { DnsLookupResult, DnsQueryType, DnsRecord, DnsScope } from './resolver-types.ts'

interface NetEntry {
  readonly id: string
  /** Lower case. */
  readonly name: string
  readonly ingress: boolean
}

interface Attachment {
  /** A network id or name, as the spec gives it. */
  readonly target: string
  /** Lower case. */
  readonly aliases: readonly string[]
}

interface SvcEntry {
  readonly id: string
  /** Lower case. */
  readonly name: string
  readonly dnsrr: boolean
  readonly vips: readonly NetAddress[]
  readonly attachments: readonly Attachment[]
  /** Lower-case port names and protocols. */
  readonly ports: readonly { readonly name: string; readonly protocol: string; readonly targetPort: number }[]
}

interface TaskEntry {
  readonly id: string
  readonly serviceId: string
  /** Lower case (`<service>.<slot>.<task id>`). */
  readonly name: string
  readonly backend: boolean
  readonly addrs: readonly NetAddress[]
}

/** A service that answers a name on one network of the scope. */
interface Match {
  readonly svc: SvcEntry
  readonly net: NetEntry
}

const NOT_FOUND: DnsLookupResult = Object.freeze({ found: false, answers: Object.freeze([]), additionals: Object.freeze([]) })

/** Round-robin counters kept before the map is cleared (names are bounded by services, not by queries). */
const ROTATION_LIMIT = 4096

/**
 * Names by network. Multi-address answers made of task addresses are rotated: each such
 * answer for a name starts one address further than the previous one (Docker shuffles them at
 * random; a rotation spreads clients as evenly and keeps answers reproducible).
 */
export class NameTable {
  readonly #vipTtl: number
  readonly #taskTtl: number
  readonly #networks = new Map<string, NetEntry>()
  readonly #netByName = new Map<string, string>()
  readonly #services = new Map<string, SvcEntry>()
  readonly #svcByName = new Map<string, string>()
  readonly #aliases = new Map<string, Set<string>>()
  readonly #tasks = new Map<string, TaskEntry>()
  readonly #taskByName = new Map<string, string>()
  /** Backend task ids per service id, in the order they became backends. */
  readonly #backends = new Map<string, Set<string>>()
  readonly #rotation = new Map<string, number>()

  /** @param ttls - seconds for VIP answers and for answers made of task addresses. */
  constructor(ttls: { readonly vip: number; readonly task: number }) {
    this.#vipTtl = ttls.vip
    this.#taskTtl = ttls.task
  }

  /** Forgets everything (before a resync). */
  clear(): void {
    for (const m of [this.#networks, this.#netByName, this.#services, this.#svcByName, this.#aliases, this.#tasks, this.#taskByName, this.#backends, this.#rotation]) m.clear()
  }

  /** Adds or replaces a network. */
  putNetwork(n: Frozen<Network>): void {
    this.removeNetwork(n.id)
    const entry: NetEntry = { id: n.id, name: n.spec.annotations.name.toLowerCase(), ingress: n.spec.ingress === true }
    this.#networks.set(n.id, entry)
    this.#netByName.set(entry.name, n.id)
  }

  /** Forgets a network. */
  removeNetwork(id: string): void {
    const old = this.#networks.get(id)
    if (old === undefined) return
    this.#networks.delete(id)
    if (this.#netByName.get(old.name) === id) this.#netByName.delete(old.name)
  }

  /** Adds or replaces a service. */
  putService(s: Frozen<Service>): void {
    this.removeService(s.id)
    const attachments: Attachment[] = [...(s.spec.task.networks ?? []), ...(s.spec.networks ?? [])].map((a) => ({
      target: a.target,
      aliases: (a.aliases ?? []).map((x) => x.toLowerCase()),
    }))
    const ports = (s.endpoint?.ports ?? s.spec.endpoint?.ports ?? [])
      .filter((p) => p.name !== undefined && p.name !== '')
      .map((p) => ({ name: (p.name ?? '').toLowerCase(), protocol: p.protocol ?? 'tcp', targetPort: p.targetPort }))
    const entry: SvcEntry = {
      id: s.id,
      name: s.spec.annotations.name.toLowerCase(),
      dnsrr: (s.endpoint?.spec?.mode ?? s.spec.endpoint?.mode) === 'dnsrr',
      vips: (s.endpoint?.virtualIps ?? []).map((v) => splitCidr(v.networkId, v.addr)),
      attachments,
      ports,
    }
    this.#services.set(s.id, entry)
    this.#svcByName.set(entry.name, s.id)
    for (const att of attachments) {
      for (const alias of att.aliases) {
        let ids = this.#aliases.get(alias)
        if (ids === undefined) this.#aliases.set(alias, (ids = new Set()))
        ids.add(s.id)
      }
    }
  }

  /** Forgets a service (its tasks stay until they are removed themselves). */
  removeService(id: string): void {
    const old = this.#services.get(id)
    if (old === undefined) return
    this.#services.delete(id)
    if (this.#svcByName.get(old.name) === id) this.#svcByName.delete(old.name)
    for (const att of old.attachments) {
      for (const alias of att.aliases) {
        const ids = this.#aliases.get(alias)
        if (ids?.delete(id) === true && ids.size === 0) this.#aliases.delete(alias)
      }
    }
  }

  /** Adds or replaces a task. */
  putTask(t: Frozen<Task>): void {
    const old = this.#tasks.get(t.id)
    const entry: TaskEntry = { id: t.id, serviceId: t.serviceId, name: taskName(t), backend: isBackend(t), addrs: taskAddresses(t.networks) }
    // A task that stays a backend keeps its place in its service's rotation.
    if (old !== undefined && !(old.backend && entry.backend && old.serviceId === entry.serviceId)) this.removeTask(t.id)
    this.#tasks.set(t.id, entry)
    this.#taskByName.set(entry.name, t.id)
    if (entry.backend) {
      let ids = this.#backends.get(entry.serviceId)
      if (ids === undefined) this.#backends.set(entry.serviceId, (ids = new Set()))
      ids.add(t.id)
    }
  }

  /** Forgets a task. */
  removeTask(id: string): void {
    const old = this.#tasks.get(id)
    if (old === undefined) return
    this.#tasks.delete(id)
    if (this.#taskByName.get(old.name) === id) this.#taskByName.delete(old.name)
    const ids = this.#backends.get(old.serviceId)
    if (ids?.delete(id) === true && ids.size === 0) this.#backends.delete(old.serviceId)
  }

  /** Answers `name` for `type` from the networks of `scope` (see {@link NameLookup}). */
  lookup(name: string, type: DnsQueryType, scope: DnsScope): DnsLookupResult {
    const owner = name.endsWith('.') ? name.slice(0, -1) : name
    const key = normalizeName(name)
    const nets = this.#scopeNets(scope)
    if (nets.length === 0 || key === '') return NOT_FOUND
    const direct = this.#resolve(key, owner, type, nets)
    if (direct.found) return direct
    // `<name>.<network>`: the name on that network only.
    for (const net of nets) {
      if (key.length > net.name.length + 1 && key.endsWith(`.${net.name}`)) {
        const r = this.#resolve(key.slice(0, key.length - net.name.length - 1), owner, type, [net])
        if (r.found) return r
      }
    }
    return NOT_FOUND
  }

  #scopeNets(scope: DnsScope): NetEntry[] {
    const out: NetEntry[] = []
    if (scope === 'all') {
      for (const n of this.#networks.values()) if (!n.ingress) out.push(n)
      return out
    }
    for (const s of scope) {
      const n = this.#networks.get(s) ?? this.#networks.get(this.#netByName.get(s.toLowerCase()) ?? '')
      if (n !== undefined && !n.ingress && !out.includes(n)) out.push(n)
    }
    return out
  }

  /** `key` (normalised, unqualified) on `nets`; records are named `owner`. */
  #resolve(key: string, owner: string, type: DnsQueryType, nets: readonly NetEntry[]): DnsLookupResult {
    const srv = parseSrvName(key)
    if (srv !== undefined) {
      const matches = this.#matches(srv.rest, nets)
      const ports = new Map<number, boolean>()
      for (const m of matches) {
        for (const p of m.svc.ports) if (p.name === srv.portName && p.protocol === srv.protocol) ports.set(p.targetPort, m.svc.dnsrr || (ports.get(p.targetPort) ?? false))
      }
      if (ports.size > 0) {
        if (type !== 'SRV') return { found: true, answers: [], additionals: [] }
        // The rest of the name as asked, with its network qualifier if it had one (names are ASCII).
        const target = owner.slice(key.length - srv.rest.length)
        const answers: DnsRecord[] = [...ports].map(([port, dnsrr]) => ({
          type: 'SRV',
          name: owner,
          ttl: dnsrr ? this.#taskTtl : this.#vipTtl,
          priority: 0,
          weight: 0,
          port,
          target,
        }))
        const additionals = [...this.#addresses(matches, 'A', target), ...this.#addresses(matches, 'AAAA', target)]
        return { found: true, answers, additionals }
      }
    }
    if (key.startsWith(TASKS_PREFIX)) {
      const matches = this.#matches(key.slice(TASKS_PREFIX.length), nets)
      if (matches.length > 0) return this.#answer(this.#taskRecords(matches, type, owner), `${type}:${key}`, true)
    }
    const matches = this.#matches(key, nets)
    if (matches.length > 0) {
      if (type === 'SRV') return { found: true, answers: [], additionals: [] }
      return this.#answer(this.#addresses(matches, type, owner), `${type}:${key}`, matches.some((m) => m.svc.dnsrr))
    }
    const taskId = this.#taskByName.get(key)
    const task = taskId === undefined ? undefined : this.#tasks.get(taskId)
    if (task !== undefined && task.addrs.some((a) => nets.some((n) => n.id === a.networkId))) {
      if (type === 'SRV' || !task.backend) return { found: true, answers: [], additionals: [] }
      const v6 = type === 'AAAA'
      const answers = task.addrs
        .filter((a) => a.v6 === v6 && nets.some((n) => n.id === a.networkId))
        .map((a) => this.#addressRecord(type, owner, this.#taskTtl, a.ip))
      return { found: true, answers, additionals: [] }
    }
    return NOT_FOUND
  }

  /** Found, with `answers` rotated when they hold task addresses and there are several. */
  #answer(answers: DnsRecord[], rotationKey: string, rotate: boolean): DnsLookupResult {
    if (rotate && answers.length > 1) {
      if (this.#rotation.size >= ROTATION_LIMIT && !this.#rotation.has(rotationKey)) this.#rotation.clear()
      const n = this.#rotation.get(rotationKey) ?? 0
      this.#rotation.set(rotationKey, n + 1)
      const k = n % answers.length
      if (k !== 0) answers = [...answers.slice(k), ...answers.slice(0, k)]
    }
    return { found: true, answers, additionals: [] }
  }

  /** The services answering `key` (their name, or an alias on that network) on each network of `nets`. */
  #matches(key: string, nets: readonly NetEntry[]): Match[] {
    const out: Match[] = []
    const byName = this.#svcByName.get(key)
    const byAlias = this.#aliases.get(key)
    if (byName === undefined && byAlias === undefined) return out
    for (const net of nets) {
      if (byName !== undefined) {
        const svc = this.#services.get(byName)
        if (svc !== undefined && this.#onNetwork(svc, net)) out.push({ svc, net })
      }
      for (const id of byAlias ?? []) {
        const svc = this.#services.get(id)
        if (svc === undefined || id === byName) continue
        if (svc.attachments.some((a) => a.aliases.includes(key) && this.#networkOf(a.target) === net.id)) out.push({ svc, net })
      }
    }
    return out
  }

  #onNetwork(svc: SvcEntry, net: NetEntry): boolean {
    return svc.vips.some((v) => v.networkId === net.id) || svc.attachments.some((a) => this.#networkOf(a.target) === net.id)
  }

  #networkOf(target: string): string | undefined {
    return this.#networks.has(target) ? target : this.#netByName.get(target.toLowerCase())
  }

  /** Each match's VIP on its network (VIP mode) or its backends' addresses there (DNSRR). */
  #addresses(matches: readonly Match[], type: DnsQueryType, owner: string): DnsRecord[] {
    if (type === 'SRV') return []
    const v6 = type === 'AAAA'
    const vip: DnsRecord[] = []
    const rr: Match[] = []
    for (const m of matches) {
      if (m.svc.dnsrr) rr.push(m)
      else for (const a of m.svc.vips) if (a.networkId === m.net.id && a.v6 === v6) vip.push(this.#addressRecord(type, owner, this.#vipTtl, a.ip))
    }
    return rr.length === 0 ? vip : [...vip, ...this.#taskRecords(rr, type, owner)]
  }

  /** The addresses of each match's backend tasks on its network. */
  #taskRecords(matches: readonly Match[], type: DnsQueryType, owner: string): DnsRecord[] {
    if (type === 'SRV') return []
    const v6 = type === 'AAAA'
    const out: DnsRecord[] = []
    const seen = matches.length > 1 ? new Set<string>() : undefined
    for (const m of matches) {
      for (const id of this.#backends.get(m.svc.id) ?? []) {
        const task = this.#tasks.get(id)
        if (task === undefined) continue
        for (const a of task.addrs) {
          if (a.networkId !== m.net.id || a.v6 !== v6) continue
          if (seen !== undefined) {
            if (seen.has(a.ip)) continue
            seen.add(a.ip)
          }
          out.push(this.#addressRecord(type, owner, this.#taskTtl, a.ip))
        }
      }
    }
    return out
  }

  #addressRecord(type: 'A' | 'AAAA', name: string, ttl: number, address: string): DnsRecord {
    return { type, name, ttl, address }
  }
}
