import { ResourceExhaustedError } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DYNAMIC_PORT_RANGE, PortAllocator, normalizePort, samePort } from '../src/allocator/ports.ts'

describe('PortAllocator', () => {
  it('gives ingress ports with publishedPort 0 the lowest free dynamic ports, per protocol', () => {
    const ports = new PortAllocator()
    const plan = ports.plan('a', [{ targetPort: 80 }, { targetPort: 53, protocol: 'udp' }, { targetPort: 81, publishedPort: 0 }])
    expect(plan).toEqual({
      ok: true,
      ports: [
        { protocol: 'tcp', targetPort: 80, publishedPort: 30000, publishMode: 'ingress' },
        { protocol: 'udp', targetPort: 53, publishedPort: 30000, publishMode: 'ingress' },
        { protocol: 'tcp', targetPort: 81, publishedPort: 30001, publishMode: 'ingress' },
      ],
    })
  })

  it('plan changes nothing until commit', () => {
    const ports = new PortAllocator()
    ports.plan('a', [{ targetPort: 80, publishedPort: 8080 }])
    expect(ports.snapshot()).toEqual({ ingress: [], host: [] })
    const plan = ports.plan('a', [{ targetPort: 80, publishedPort: 8080 }])
    if (!plan.ok) throw new Error('expected a plan')
    ports.commit('a', plan.ports)
    expect(ports.snapshot()).toEqual({ ingress: [['8080/tcp', 'a']], host: [] })
  })

  it('refuses an ingress port another service holds, naming it and the index', () => {
    const ports = new PortAllocator()
    ports.commit('web', [{ targetPort: 80, publishedPort: 8080 }])
    expect(ports.plan('api', [{ targetPort: 1, publishedPort: 9000 }, { targetPort: 80, publishedPort: 8080 }])).toEqual({
      ok: false,
      reason: 'in-use',
      index: 1,
      port: 8080,
      protocol: 'tcp',
      owner: 'web',
    })
    // The same number over udp is another port.
    expect(ports.plan('api', [{ targetPort: 80, publishedPort: 8080, protocol: 'udp' }]).ok).toBe(true)
  })

  it('lets host-mode ports be shared, but not with an ingress port (either way round)', () => {
    const ports = new PortAllocator()
    ports.commit('h1', [{ targetPort: 80, publishedPort: 8080, publishMode: 'host' }])
    expect(ports.plan('h2', [{ targetPort: 80, publishedPort: 8080, publishMode: 'host' }]).ok).toBe(true)
    ports.commit('h2', [{ targetPort: 80, publishedPort: 8080, publishMode: 'host' }])
    expect(ports.plan('i', [{ targetPort: 80, publishedPort: 8080 }])).toMatchObject({ ok: false, reason: 'in-use', owner: 'h1' })
    ports.commit('i', [{ targetPort: 80, publishedPort: 9090 }])
    expect(ports.plan('h3', [{ targetPort: 80, publishedPort: 9090, publishMode: 'host' }])).toMatchObject({ ok: false, owner: 'i' })
    expect(ports.snapshot().host).toEqual([['8080/tcp', ['h1', 'h2']]])
  })

  it('skips dynamic ports held as host-mode ports by other services', () => {
    const ports = new PortAllocator()
    ports.commit('h', [{ targetPort: 80, publishedPort: 30000, publishMode: 'host' }])
    expect(ports.plan('i', [{ targetPort: 80 }])).toMatchObject({ ok: true, ports: [{ publishedPort: 30001 }] })
  })

  it('leaves host-mode ports with publishedPort 0 to the node', () => {
    const ports = new PortAllocator()
    expect(ports.plan('a', [{ targetPort: 80, publishMode: 'host' }])).toEqual({
      ok: true,
      ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 0, publishMode: 'host' }],
    })
  })

  it('keeps a service its dynamic ports on update and frees the ones it no longer uses', () => {
    const ports = new PortAllocator()
    const first = ports.plan('a', [{ targetPort: 80 }, { targetPort: 443 }])
    if (!first.ok) throw new Error('expected a plan')
    ports.commit('a', first.ports)
    expect(first.ports.map((p) => p.publishedPort)).toEqual([30000, 30001])
    const second = ports.plan('a', [{ targetPort: 443 }, { targetPort: 8443, name: 'alt' }])
    if (!second.ok) throw new Error('expected a plan')
    ports.commit('a', second.ports)
    // 443 keeps 30001; 30000 is free again and goes to the new port.
    expect(second.ports.map((p) => p.publishedPort)).toEqual([30001, 30000])
    ports.release('a')
    expect(ports.snapshot()).toEqual({ ingress: [], host: [] })
  })

  it('never gives a dynamic port the same spec names as a fixed port', () => {
    const ports = new PortAllocator()
    const plan = ports.plan('a', [{ targetPort: 80 }, { targetPort: 81, publishedPort: 30000 }])
    expect(plan).toMatchObject({ ok: true, ports: [{ publishedPort: 30001 }, { publishedPort: 30000 }] })
  })

  it('reports exhaustion of the dynamic range (2,768 ports) as ResourceExhaustedError', () => {
    const ports = new PortAllocator()
    const size = DYNAMIC_PORT_RANGE.end - DYNAMIC_PORT_RANGE.start + 1
    expect(size).toBe(2768)
    for (let i = 0; i < size; i++) {
      const plan = ports.plan(`s${i}`, [{ targetPort: 80 }])
      if (!plan.ok) throw new Error(`ran out at ${i}`)
      ports.commit(`s${i}`, plan.ports)
    }
    const last = ports.plan('late', [{ targetPort: 80 }])
    expect(last.ok).toBe(false)
    if (last.ok || last.reason !== 'exhausted') throw new Error('expected exhaustion')
    expect(last.error).toBeInstanceOf(ResourceExhaustedError)
    expect(last.error.resource).toBe('dynamic ingress ports (30000-32767/tcp)')
    ports.release('s7')
    expect(ports.plan('late', [{ targetPort: 80 }])).toMatchObject({ ok: true, ports: [{ publishedPort: 30007 }] })
  })

  it('reserve keeps recorded ports and leaves out the ones that conflict', () => {
    const ports = new PortAllocator()
    expect(ports.reserve('a', [{ targetPort: 80, publishedPort: 30005 }])).toEqual([])
    expect(ports.reserve('b', [{ targetPort: 80, publishedPort: 30005 }, { targetPort: 81, publishedPort: 30006 }])).toEqual([0])
    expect(ports.snapshot().ingress).toEqual([
      ['30005/tcp', 'a'],
      ['30006/tcp', 'b'],
    ])
  })

  it('normalizes defaults and compares ports by meaning', () => {
    expect(normalizePort({ targetPort: 80, name: '' })).toEqual({ protocol: 'tcp', targetPort: 80, publishedPort: 0, publishMode: 'ingress' })
    expect(samePort({ targetPort: 80 }, { targetPort: 80, protocol: 'tcp', publishMode: 'ingress', publishedPort: 0 })).toBe(true)
    expect(samePort({ targetPort: 80 }, { targetPort: 80, protocol: 'udp' })).toBe(false)
  })

  it('property: no two services ever hold one ingress port, and host ports never meet an ingress one', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        service: fc.integer({ min: 0, max: 5 }),
        ports: fc.array(
          fc.record({
            targetPort: fc.integer({ min: 1, max: 3 }),
            publishedPort: fc.constantFrom(0, 0, 30000, 30001, 30002, 8080),
            protocol: fc.constantFrom('tcp' as const, 'udp' as const),
            publishMode: fc.constantFrom('ingress' as const, 'host' as const),
          }),
          { maxLength: 3 },
        ),
      }),
      fc.record({ kind: fc.constant('release' as const), service: fc.integer({ min: 0, max: 5 }) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const ports = new PortAllocator({ dynamicRange: { start: 30000, end: 30003 } })
        for (const o of ops) {
          const id = `s${o.service}`
          if (o.kind === 'release') {
            ports.release(id)
            continue
          }
          const plan = ports.plan(id, o.ports)
          if (plan.ok) ports.commit(id, plan.ports)
        }
        // Every held port, by (port, protocol): at most one ingress holder, and then no other holder.
        const holders = new Map<string, { ingress: string[]; host: string[] }>()
        for (let s = 0; s <= 5; s++) {
          for (const p of ports.portsOf(`s${s}`) ?? []) {
            if (p.publishedPort === 0) {
              expect(p.publishMode).toBe('host')
              continue
            }
            const key = `${p.publishedPort}/${p.protocol}`
            const h = holders.get(key) ?? { ingress: [], host: [] }
            h[p.publishMode].push(`s${s}`)
            holders.set(key, h)
          }
        }
        for (const h of holders.values()) {
          expect(h.ingress.length).toBeLessThanOrEqual(1)
          if (h.ingress.length === 1) expect(h.host.filter((s) => s !== h.ingress[0])).toEqual([])
        }
      }),
      { numRuns: 300 },
    )
  })
})
