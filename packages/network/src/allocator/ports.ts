/**
 * Published ports (SwarmKit's manager/allocator/portallocator.go): the master port space 1–65535
 * per protocol, with ingress ports owned by one service cluster-wide and host-mode ports shared.
 * An ingress port conflicts with any other service's ingress or host-mode port on the same
 * (port, protocol); host-mode ports never conflict with each other (the scheduler's
 * HostPortFilter keeps them apart per node). Ingress ports with `publishedPort` 0 get the lowest
 * free port of the dynamic range 30000–32767.
 *
 * Pure and synchronous: {@link PortAllocator.plan} decides without changing anything, and
 * {@link PortAllocator.commit} applies a plan, so a service's allocation is all or nothing.
 *
 * @module
 */
import { ResourceExhaustedError } from '@swarmkit-ts/api'
import type { PortConfig, PortProtocol, PublishMode } from '@swarmkit-ts/api'

/** The master port space, per protocol (SwarmKit's masterPortStart/End). */
export const MASTER_PORT_RANGE = { start: 1, end: 65535 } as const

/** Where ingress ports with `publishedPort` 0 come from (SwarmKit's dynamicPortStart/End). */
export const DYNAMIC_PORT_RANGE = { start: 30000, end: 32767 } as const

/** A port config with every default filled in (`name` kept only when given). */
export interface NormalizedPort {
  readonly name?: string
  readonly protocol: PortProtocol
  readonly targetPort: number
  readonly publishedPort: number
  readonly publishMode: PublishMode
}

/** `p` with its defaults filled in: protocol `tcp`, publish mode `ingress`, published port 0. */
export function normalizePort(p: PortConfig): NormalizedPort {
  const out = {
    protocol: p.protocol ?? 'tcp',
    targetPort: p.targetPort,
    publishedPort: p.publishedPort ?? 0,
    publishMode: p.publishMode ?? 'ingress',
  }
  return p.name === undefined || p.name === '' ? out : { name: p.name, ...out }
}

/** Whether two port configs say the same once their defaults are filled in. */
export function samePort(a: PortConfig, b: PortConfig): boolean {
  const x = normalizePort(a)
  const y = normalizePort(b)
  return (
    (x.name ?? '') === (y.name ?? '') &&
    x.protocol === y.protocol &&
    x.targetPort === y.targetPort &&
    x.publishedPort === y.publishedPort &&
    x.publishMode === y.publishMode
  )
}

/** `8080/tcp`: how messages name a published port. */
export function portLabel(port: number, protocol: PortProtocol): string {
  return `${port}/${protocol}`
}

/** What {@link PortAllocator.plan} decided. */
export type PortPlan =
  /** The service's ports with every ingress port's `publishedPort` filled in. */
  | { readonly ok: true; readonly ports: readonly NormalizedPort[] }
  /** `ports[index]` asks for a port another service holds (`owner`, a service id). */
  | {
      readonly ok: false
      readonly reason: 'in-use'
      readonly index: number
      readonly port: number
      readonly protocol: PortProtocol
      readonly owner: string
    }
  /** `ports[index]` repeats an earlier (port, protocol) of the same list where either is an ingress port. */
  | { readonly ok: false; readonly reason: 'duplicate'; readonly index: number; readonly port: number; readonly protocol: PortProtocol }
  /** No dynamic port is left for `ports[index]`. */
  | { readonly ok: false; readonly reason: 'exhausted'; readonly index: number; readonly error: ResourceExhaustedError }

interface Space {
  /** Ingress port → the service holding it. */
  readonly ingress: Map<number, string>
  /** Host-mode port → the services publishing it. */
  readonly host: Map<number, Set<string>>
  /** No dynamic port below this one is free (a lower bound, moved down on release). */
  hint: number
}

/** Every port held, for tests and benchmarks: deterministic and comparable with `toEqual`. */
export interface PortSnapshot {
  /** `'8080/tcp'` → the service holding it as an ingress port, sorted by protocol and port. */
  readonly ingress: readonly (readonly [string, string])[]
  /** `'8080/tcp'` → the services publishing it in host mode (sorted). */
  readonly host: readonly (readonly [string, readonly string[]])[]
}

/** The cluster's published ports. */
export class PortAllocator {
  readonly #spaces = new Map<PortProtocol, Space>()
  readonly #byService = new Map<string, readonly NormalizedPort[]>()
  readonly #dynamic: { readonly start: number; readonly end: number }

  /** @param init.dynamicRange - the dynamic range (default {@link DYNAMIC_PORT_RANGE}; smaller in tests). */
  constructor(init: { readonly dynamicRange?: { readonly start: number; readonly end: number } } = {}) {
    this.#dynamic = init.dynamicRange ?? DYNAMIC_PORT_RANGE
  }

  #space(protocol: PortProtocol): Space {
    let s = this.#spaces.get(protocol)
    if (s === undefined) {
      s = { ingress: new Map(), host: new Map(), hint: this.#dynamic.start }
      this.#spaces.set(protocol, s)
    }
    return s
  }

  /** The ports `serviceId` holds (as last committed), or undefined. */
  portsOf(serviceId: string): readonly NormalizedPort[] | undefined {
    return this.#byService.get(serviceId)
  }

  /** The service holding `port/protocol` as an ingress port, if any. */
  ingressOwner(port: number, protocol: PortProtocol): string | undefined {
    return this.#spaces.get(protocol)?.ingress.get(port)
  }

  /**
   * Another service than `self` that `port/protocol` in `mode` would conflict with: an ingress
   * port conflicts with any other service's port, a host-mode port only with an ingress one.
   */
  conflict(port: number, protocol: PortProtocol, mode: PublishMode, self: string): string | undefined {
    const s = this.#spaces.get(protocol)
    if (s === undefined) return undefined
    const owner = s.ingress.get(port)
    if (owner !== undefined && owner !== self) return owner
    if (mode !== 'ingress') return undefined
    for (const other of s.host.get(port) ?? []) if (other !== self) return other
    return undefined
  }

  /**
   * Decides the ports of `serviceId` for `ports` (its spec's), changing nothing: fixed ports
   * must be free of conflicts (ports this service holds count as free for it); an ingress port
   * with `publishedPort` 0 keeps the dynamic port the service holds for the same name, protocol
   * and target port, else gets the lowest free dynamic port. Host-mode ports keep 0 (the node
   * picks). The first problem in `ports` order is reported.
   */
  plan(serviceId: string, ports: readonly PortConfig[]): PortPlan {
    const wanted = ports.map(normalizePort)
    // Ingress ports this plan takes, per protocol; host-mode ports it publishes.
    const ingress = new Map<PortProtocol, Set<number>>()
    const host = new Map<PortProtocol, Set<number>>()
    const setOf = (m: Map<PortProtocol, Set<number>>, protocol: PortProtocol): Set<number> => {
      let t = m.get(protocol)
      if (t === undefined) m.set(protocol, (t = new Set()))
      return t
    }
    // Fixed ports first, so a dynamic pick never takes one the same spec names.
    for (const [index, p] of wanted.entries()) {
      if (p.publishedPort === 0) continue
      const mine = setOf(ingress, p.protocol).has(p.publishedPort) || (p.publishMode === 'ingress' && setOf(host, p.protocol).has(p.publishedPort))
      if (mine) return { ok: false, reason: 'duplicate', index, port: p.publishedPort, protocol: p.protocol }
      const owner = this.conflict(p.publishedPort, p.protocol, p.publishMode, serviceId)
      if (owner !== undefined) return { ok: false, reason: 'in-use', index, port: p.publishedPort, protocol: p.protocol, owner }
      setOf(p.publishMode === 'ingress' ? ingress : host, p.protocol).add(p.publishedPort)
    }
    // Then the dynamic ports this service holds for the same name, protocol and target port.
    const held = [...(this.#byService.get(serviceId) ?? [])]
    const chosen = new Map<number, number>()
    for (const [index, p] of wanted.entries()) {
      if (p.publishedPort !== 0 || p.publishMode !== 'ingress') continue
      const used = setOf(ingress, p.protocol)
      const keep = held.findIndex(
        (h) =>
          h.publishMode === 'ingress' &&
          h.protocol === p.protocol &&
          h.targetPort === p.targetPort &&
          (h.name ?? '') === (p.name ?? '') &&
          !used.has(h.publishedPort) &&
          !setOf(host, p.protocol).has(h.publishedPort) &&
          this.conflict(h.publishedPort, h.protocol, 'ingress', serviceId) === undefined,
      )
      if (keep < 0) continue
      const port = (held[keep] as NormalizedPort).publishedPort
      held.splice(keep, 1)
      used.add(port)
      chosen.set(index, port)
    }
    // Then the lowest free dynamic port for the others (the ports released by this plan count as free).
    const out: NormalizedPort[] = []
    for (const [index, p] of wanted.entries()) {
      if (p.publishedPort !== 0 || p.publishMode !== 'ingress') {
        out.push(p)
        continue
      }
      let port = chosen.get(index)
      if (port === undefined) {
        const used = setOf(ingress, p.protocol)
        const hosts = setOf(host, p.protocol)
        let from = this.#space(p.protocol).hint
        for (const h of held) if (h.protocol === p.protocol && h.publishedPort >= this.#dynamic.start && h.publishedPort < from) from = h.publishedPort
        port = this.#lowestFree(p.protocol, serviceId, from, (x) => used.has(x) || hosts.has(x))
        if (port === undefined) {
          const { start, end } = this.#dynamic
          return { ok: false, reason: 'exhausted', index, error: new ResourceExhaustedError(`dynamic ingress ports (${start}-${end}/${p.protocol})`) }
        }
        used.add(port)
      }
      out.push({ ...p, publishedPort: port })
    }
    return { ok: true, ports: out }
  }

  #lowestFree(protocol: PortProtocol, self: string, from: number, taken: (port: number) => boolean): number | undefined {
    for (let port = from; port <= this.#dynamic.end; port++) {
      if (taken(port)) continue
      if (this.conflict(port, protocol, 'ingress', self) === undefined) return port
    }
    return undefined
  }

  /**
   * Makes `ports` (a successful plan's, or ports recorded in the store) the ports `serviceId`
   * holds, releasing the ones it held before. Does not check conflicts: use {@link plan} first,
   * or {@link reserve} for recorded ports.
   */
  commit(serviceId: string, ports: readonly PortConfig[]): void {
    this.release(serviceId)
    const normalized = ports.map(normalizePort)
    for (const p of normalized) {
      if (p.publishedPort === 0) continue
      const s = this.#space(p.protocol)
      if (p.publishMode === 'ingress') s.ingress.set(p.publishedPort, serviceId)
      else {
        let users = s.host.get(p.publishedPort)
        if (users === undefined) s.host.set(p.publishedPort, (users = new Set()))
        users.add(serviceId)
      }
    }
    this.#byService.set(serviceId, normalized)
    for (const s of this.#spaces.values()) {
      while (s.hint <= this.#dynamic.end && (s.ingress.has(s.hint) || s.host.has(s.hint))) s.hint++
    }
  }

  /**
   * Takes the ports recorded for `serviceId` (a rebuild from the store). A port that conflicts
   * with what other services already hold is left out; its index is returned (the service then
   * needs allocating again).
   */
  reserve(serviceId: string, ports: readonly PortConfig[]): number[] {
    const skipped: number[] = []
    const kept: PortConfig[] = []
    for (const [i, raw] of ports.entries()) {
      const p = normalizePort(raw)
      if (p.publishedPort !== 0 && this.conflict(p.publishedPort, p.protocol, p.publishMode, serviceId) !== undefined) skipped.push(i)
      else kept.push(p)
    }
    this.commit(serviceId, kept)
    return skipped
  }

  /** Releases every port `serviceId` holds (nothing if it holds none). */
  release(serviceId: string): void {
    const old = this.#byService.get(serviceId)
    if (old === undefined) return
    this.#byService.delete(serviceId)
    for (const p of old) {
      if (p.publishedPort === 0) continue
      const s = this.#space(p.protocol)
      if (p.publishMode === 'ingress') {
        if (s.ingress.get(p.publishedPort) === serviceId) s.ingress.delete(p.publishedPort)
      } else {
        const users = s.host.get(p.publishedPort)
        users?.delete(serviceId)
        if (users?.size === 0) s.host.delete(p.publishedPort)
      }
      if (p.publishedPort < s.hint) s.hint = Math.max(p.publishedPort, this.#dynamic.start)
    }
  }

  /** Every port held, sorted: equal for two allocators that hold the same ports. */
  snapshot(): PortSnapshot {
    const ingress: (readonly [string, string])[] = []
    const host: (readonly [string, readonly string[]])[] = []
    for (const protocol of [...this.#spaces.keys()].sort()) {
      const s = this.#spaces.get(protocol) as Space
      for (const port of [...s.ingress.keys()].sort((a, b) => a - b)) ingress.push([portLabel(port, protocol), s.ingress.get(port) as string])
      for (const port of [...s.host.keys()].sort((a, b) => a - b)) host.push([portLabel(port, protocol), [...(s.host.get(port) as Set<string>)].sort()])
    }
    return { ingress, host }
  }
}
