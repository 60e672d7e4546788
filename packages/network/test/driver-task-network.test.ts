import type { PortConfig } from '@swarmkit-ts/api'
import type { ContainerInfo } from '@swarmkit-ts/engine-adapter'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DriverNetwork, TaskEndpoint } from '../src/driver/index.ts'
import { toPortStatus, withTaskNetwork } from '../src/driver/index.ts'
import { checkAttachments, checkDriverNetwork, computeEndpoints, planPorts } from '../src/driver/task-network.ts'

const NET: DriverNetwork = { id: 'n1', name: 'app', subnet: '10.0.1.0/24', gateway: '10.0.1.1' }
const NET6: DriverNetwork = { id: 'n6', name: 'dual', subnet: '10.0.2.0/24', gateway: '10.0.2.1', ipv6: { subnet: 'fd00:2::/64', gateway: 'fd00:2::1' } }
const lookup = (id: string): DriverNetwork => {
  const n = [NET, NET6].find((x) => x.id === id)
  if (n === undefined) throw new Error(`unknown ${id}`)
  return n
}

function errorOf(f: () => unknown): unknown {
  try {
    f()
    return undefined
  } catch (err) {
    return { name: (err as Error).name, field: (err as { field?: string }).field, reason: (err as { reason?: string }).reason }
  }
}
const invalid = (field: string): unknown => ({ name: 'InvalidArgumentError', field, reason: undefined })

describe('checkDriverNetwork', () => {
  it('accepts an allocated network and names the field of a bad one', () => {
    expect(errorOf(() => checkDriverNetwork(NET6))).toBeUndefined()
    expect(errorOf(() => checkDriverNetwork({ ...NET, id: '' }))).toEqual(invalid('id'))
    expect(errorOf(() => checkDriverNetwork({ ...NET, subnet: '10.0.1.1/24' }))).toEqual(invalid('subnet'))
    expect(errorOf(() => checkDriverNetwork({ ...NET, subnet: 'fd00::/64' }))).toEqual(invalid('subnet'))
    expect(errorOf(() => checkDriverNetwork({ ...NET, subnet: '10.0.1.0/31', gateway: '10.0.1.1' }))).toEqual(invalid('subnet'))
    expect(errorOf(() => checkDriverNetwork({ ...NET, gateway: '10.0.1.0' }))).toEqual(invalid('gateway'))
    expect(errorOf(() => checkDriverNetwork({ ...NET, gateway: '10.0.1.255' }))).toEqual(invalid('gateway'))
    expect(errorOf(() => checkDriverNetwork({ ...NET, gateway: '10.0.3.1' }))).toEqual(invalid('gateway'))
    expect(errorOf(() => checkDriverNetwork({ ...NET6, ipv6: { subnet: 'fd00:2::/64', gateway: 'fd00:3::1' } }))).toEqual(invalid('ipv6.gateway'))
    expect(errorOf(() => checkDriverNetwork({ ...NET, vxlanId: 4095 }))).toEqual(invalid('vxlanId'))
    expect(errorOf(() => checkDriverNetwork({ ...NET, vxlanId: 4096 }))).toBeUndefined()
  })
})

describe('checkAttachments', () => {
  const task = (attachments: { networkId: string; addresses?: string[]; aliases?: string[] }[]): Parameters<typeof checkAttachments>[0] => ({ taskId: 't1', attachments, ports: [] })

  it('gives plain addresses per family and the aliases', () => {
    expect(checkAttachments(task([{ networkId: 'n6', addresses: ['10.0.2.7/24', 'fd00:2:0::7/64'], aliases: ['web'] }]), lookup)).toEqual([
      { network: NET6, ipv4: '10.0.2.7', ipv6: 'fd00:2::7', aliases: ['web'] },
    ])
    expect(checkAttachments(task([{ networkId: 'n1' }]), lookup)).toEqual([{ network: NET, ipv4: undefined, ipv6: undefined, aliases: [] }])
  })

  it('refuses what is not a task address of the network, naming the attachment field', () => {
    const at = (addresses: string[]): unknown => errorOf(() => checkAttachments(task([{ networkId: 'n1', addresses }]), lookup))
    for (const bad of ['10.0.1.0/24', '10.0.1.1/24', '10.0.1.255/24', '10.0.2.5/24', '10.0.1.5/16', '10.0.1.5', 'fd00::5/64']) {
      expect([bad, at([bad])]).toEqual([bad, invalid('attachments[0].addresses[0]')])
    }
    expect(at(['10.0.1.5/24', '10.0.1.6/24'])).toEqual(invalid('attachments[0].addresses[1]'))
    expect(errorOf(() => checkAttachments(task([{ networkId: 'n1' }, { networkId: 'n1' }]), lookup))).toEqual(invalid('attachments[1].networkId'))
    expect(errorOf(() => checkAttachments(task([{ networkId: 'n1', aliases: ['a b'] }]), lookup))).toEqual(invalid('attachments[0].aliases[0]'))
  })
})

const PORT_ARB: fc.Arbitrary<PortConfig> = fc.record({
  targetPort: fc.integer({ min: 1, max: 6 }),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const),
  publishMode: fc.constantFrom('ingress' as const, 'host' as const),
  publishedPort: fc.constantFrom(0, 30000, 30001),
})

describe('planPorts', () => {
  it('maps host-mode ports at their published port and ingress ports ephemerally unless reached by address', () => {
    const ports: PortConfig[] = [
      { targetPort: 80, publishedPort: 30080 },
      { targetPort: 53, protocol: 'udp', publishedPort: 8053, publishMode: 'host' },
      { targetPort: 443, publishMode: 'host' },
    ]
    expect(planPorts(ports, false)).toEqual([
      { target: 80, published: 0, protocol: 'tcp' },
      { target: 53, published: 8053, protocol: 'udp' },
      { target: 443, published: 0, protocol: 'tcp' },
    ])
    expect(planPorts(ports, true)).toEqual([{ target: 53, published: 8053, protocol: 'udp' }, { target: 443, published: 0, protocol: 'tcp' }])
    expect(errorOf(() => planPorts([{ targetPort: 0 }], false))).toEqual(invalid('ports[0].targetPort'))
    expect(errorOf(() => planPorts([{ targetPort: 80, protocol: 'sctp' }], false))).toEqual(invalid('ports[0].protocol'))
  })

  it('maps every needed target once, at the fixed port of a host-mode port when there is one (property)', () => {
    fc.assert(fc.property(fc.array(PORT_ARB, { maxLength: 8 }), fc.boolean(), (ports, byAddress) => {
      const key = (target: number, protocol: string | undefined): string => `${String(target)}/${protocol ?? 'tcp'}`
      const fixed = new Map<string, Set<number>>()
      for (const p of ports) {
        if (p.publishMode === 'host' && (p.publishedPort ?? 0) !== 0) fixed.set(key(p.targetPort, p.protocol), (fixed.get(key(p.targetPort, p.protocol)) ?? new Set()).add(p.publishedPort ?? 0))
      }
      if ([...fixed.values()].some((s) => s.size > 1)) {
        expect(errorOf(() => planPorts(ports, byAddress))).toMatchObject({ name: 'InvalidArgumentError' })
        return
      }
      const out = planPorts(ports, byAddress)
      const needed = new Set(ports.filter((p) => p.publishMode === 'host' || !byAddress).map((p) => key(p.targetPort, p.protocol)))
      expect(out.map((m) => key(m.target, m.protocol)).sort()).toEqual([...needed].sort())
      for (const m of out) expect(m.published).toBe([...(fixed.get(key(m.target, m.protocol)) ?? [0])][0])
    }))
  })
})

const container = (ports: ContainerInfo['ports']): ContainerInfo => ({
  id: 'c1', name: undefined, image: 'busybox', labels: {}, state: 'running', createdAt: 1, startedAt: 2, finishedAt: undefined,
  exitCode: undefined, error: undefined, health: undefined, ports,
})

describe('computeEndpoints and toPortStatus', () => {
  const ports: PortConfig[] = [{ targetPort: 80, publishedPort: 30080 }, { targetPort: 53, protocol: 'udp', publishMode: 'host', publishedPort: 0 }]

  it('reaches node ports at the node address, ingress ports at the ingress address when given, in the request order', () => {
    const c = container([{ target: 53, published: 41000, protocol: 'udp' }, { target: 80, published: 41001, protocol: 'tcp' }])
    expect(computeEndpoints(ports, c, '192.0.2.7', undefined)).toEqual([
      { targetPort: 80, protocol: 'tcp', publishMode: 'ingress', via: 'node', address: '192.0.2.7', port: 41001 },
      { targetPort: 53, protocol: 'udp', publishMode: 'host', via: 'node', address: '192.0.2.7', port: 41000 },
    ])
    const viaIngress = computeEndpoints(ports, c, '192.0.2.7', { networkId: 'ing', address: '10.0.0.9' })
    expect(viaIngress[0]).toEqual({ targetPort: 80, protocol: 'tcp', publishMode: 'ingress', via: 'task', address: '10.0.0.9', port: 80, networkId: 'ing' })
    expect(toPortStatus(viaIngress)).toEqual([{ protocol: 'udp', targetPort: 53, publishedPort: 41000, publishMode: 'host' }])
  })

  it('refuses a container that does not publish a planned port (port-not-published)', () => {
    expect(errorOf(() => computeEndpoints(ports, container([]), '127.0.0.1', undefined))).toEqual({ name: 'FailedPreconditionError', field: undefined, reason: 'port-not-published' })
  })

  it('reports one port status entry per node-published target', () => {
    const e = (targetPort: number, via: 'node' | 'task', port: number): TaskEndpoint => ({ targetPort, protocol: 'tcp', publishMode: 'host', via, address: '127.0.0.1', port })
    expect(toPortStatus([e(80, 'node', 4000), e(80, 'node', 4000), e(81, 'task', 81)])).toEqual([{ protocol: 'tcp', targetPort: 80, publishedPort: 4000, publishMode: 'host' }])
  })
})

describe('withTaskNetwork', () => {
  it('adds networks and ports after the spec\'s own and keeps the spec\'s environment over the driver\'s', () => {
    const spec = { image: 'busybox', env: { A: 'spec' }, ports: [{ target: 1 }] }
    expect(withTaskNetwork(spec, { networks: [{ network: 'swk-a', ipv4Address: '10.0.1.5' }], ports: [{ target: 80, published: 0, protocol: 'tcp' }], env: { A: 'driver', B: 'driver' } })).toEqual({
      image: 'busybox',
      env: { A: 'spec', B: 'driver' },
      ports: [{ target: 1 }, { target: 80, published: 0, protocol: 'tcp' }],
      networks: [{ network: 'swk-a', ipv4Address: '10.0.1.5' }],
    })
    expect(withTaskNetwork(spec, { networks: [], ports: [], env: {} })).toEqual(spec)
  })
})
