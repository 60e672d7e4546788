import { AlreadyExistsError, InvalidArgumentError, ResourceExhaustedError } from '@swarmkit-ts/api'
import { describe, expect, test } from 'vitest'
import { Bitmap, MAX_BITMAP_ADDRESSES, SubnetAddresses, formatAddress, parseAddress, parseSubnet } from '../src/ipam/index.ts'

const addr = (t: string): ReturnType<typeof parseAddress> => parseAddress(t, 'f')
const net = (t: string): ReturnType<typeof parseSubnet> => parseSubnet(t, 'f')

describe('Bitmap', () => {
  test('set and clear report whether they changed anything, and count follows', () => {
    const b = new Bitmap(70)
    expect(b.set(3)).toBe(true)
    expect(b.set(3)).toBe(false)
    expect(b.set(69)).toBe(true)
    expect(b.count).toBe(2)
    expect(b.clear(3)).toBe(true)
    expect(b.clear(3)).toBe(false)
    expect(b.count).toBe(1)
    expect([...b.setPositions()]).toEqual([69])
  })

  test('findClear skips full words and stops at the end', () => {
    const b = new Bitmap(100)
    for (let i = 0; i < 99; i++) b.set(i)
    expect(b.findClear(0)).toBe(99)
    expect(b.findClear(0, 99)).toBe(-1)
    b.clear(31)
    expect(b.findClear(0)).toBe(31)
    expect(b.findClear(32)).toBe(99)
    b.set(99)
    b.set(31)
    expect(b.findClear(0)).toBe(-1)
    expect(b.findClearWrapping(50)).toBe(-1)
  })

  test('findClearWrapping searches from a position and wraps to the start', () => {
    const b = new Bitmap(64)
    for (let i = 10; i < 64; i++) b.set(i)
    expect(b.findClearWrapping(40)).toBe(0)
    expect(b.findClearWrapping(5)).toBe(5)
  })

  test('positions outside the bitmap are refused', () => {
    expect(() => new Bitmap(8).set(8)).toThrow(InvalidArgumentError)
    expect(() => new Bitmap(8).get(-1)).toThrow(InvalidArgumentError)
  })
})

describe('SubnetAddresses', () => {
  test('network, gateway and broadcast are never handed out; allocation starts after them', () => {
    const pool = new SubnetAddresses(net('10.0.1.0/29'), { gateway: addr('10.0.1.1') })
    expect(pool.capacity).toBe(5)
    const got = Array.from({ length: 5 }, () => formatAddress(pool.allocate()))
    expect(got).toEqual(['10.0.1.2', '10.0.1.3', '10.0.1.4', '10.0.1.5', '10.0.1.6'])
    expect(pool.used).toBe(5)
  })

  test('exhaustion is a ResourceExhaustedError naming the subnet', () => {
    const pool = new SubnetAddresses(net('10.0.1.0/30'), { gateway: addr('10.0.1.1') })
    expect(formatAddress(pool.allocate())).toBe('10.0.1.2')
    let err: unknown
    try {
      pool.allocate()
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ResourceExhaustedError)
    expect((err as ResourceExhaustedError).resource).toBe('addresses of 10.0.1.0/30')
  })

  test('allocation is serial: a released address is handed out again only after the others', () => {
    const pool = new SubnetAddresses(net('10.0.1.0/29'), { gateway: addr('10.0.1.1') })
    const a = pool.allocate()
    pool.allocate()
    expect(pool.release(a)).toBe(true)
    expect(formatAddress(pool.allocate())).toBe('10.0.1.4')
    expect(formatAddress(pool.allocate())).toBe('10.0.1.5')
    expect(formatAddress(pool.allocate())).toBe('10.0.1.6')
    expect(formatAddress(pool.allocate())).toBe('10.0.1.2') // wrapped around
  })

  test('a range limits dynamic allocation but not reservation', () => {
    const pool = new SubnetAddresses(net('10.0.1.0/24'), { gateway: addr('10.0.1.1'), range: net('10.0.1.128/30') })
    expect(pool.capacity).toBe(4)
    expect(formatAddress(pool.allocate())).toBe('10.0.1.128')
    pool.reserve(addr('10.0.1.20'), 'f')
    expect(pool.has(addr('10.0.1.20'))).toBe(true)
    expect(pool.usedAddresses().map(formatAddress)).toEqual(['10.0.1.20', '10.0.1.128'])
  })

  test('reserving an address outside the subnet names the field', () => {
    const pool = new SubnetAddresses(net('10.0.1.0/24'))
    let err: unknown
    try {
      pool.reserve(addr('10.0.2.5'), 'task.networks[0].addresses[0]')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).message).toBe('task.networks[0].addresses[0]: 10.0.2.5 is not inside subnet 10.0.1.0/24')
  })

  test('reserving a taken address (by a task, the gateway or the broadcast) is an AlreadyExistsError of kind address', () => {
    const pool = new SubnetAddresses(net('10.0.1.0/24'), { gateway: addr('10.0.1.1') })
    pool.reserve(addr('10.0.1.7'), 'f')
    const cases: [string, string][] = [
      ['10.0.1.7', 'address 10.0.1.7 is already in use in 10.0.1.0/24'],
      ['10.0.1.1', 'address 10.0.1.1 is the gateway of 10.0.1.0/24'],
      ['10.0.1.0', 'address 10.0.1.0 is the network address of 10.0.1.0/24'],
      ['10.0.1.255', 'address 10.0.1.255 is the broadcast address of 10.0.1.0/24'],
    ]
    for (const [taken, message] of cases) {
      let err: unknown
      try {
        pool.reserve(addr(taken), 'f')
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(AlreadyExistsError)
      expect((err as AlreadyExistsError).kind).toBe('address')
      expect((err as AlreadyExistsError).message).toBe(message)
    }
  })

  test('the system addresses cannot be released', () => {
    const pool = new SubnetAddresses(net('10.0.1.0/24'), { gateway: addr('10.0.1.1') })
    expect(pool.release(addr('10.0.1.1'))).toBe(false)
    expect(pool.release(addr('10.0.1.0'))).toBe(false)
    expect(pool.release(addr('10.0.1.9'))).toBe(false)
    expect(pool.allocate()).toEqual(addr('10.0.1.2'))
  })

  test('an IPv4 /31 has no network or broadcast address: both are usable', () => {
    const pool = new SubnetAddresses(net('10.0.1.0/31'))
    expect(pool.capacity).toBe(2)
    expect([pool.allocate(), pool.allocate()].map(formatAddress)).toEqual(['10.0.1.0', '10.0.1.1'])
  })

  test('an IPv6 subnet reserves its network address but has no broadcast', () => {
    const pool = new SubnetAddresses(net('fd00::/126'), { gateway: addr('fd00::1') })
    expect(pool.capacity).toBe(2)
    expect([pool.allocate(), pool.allocate()].map(formatAddress)).toEqual(['fd00::2', 'fd00::3'])
  })

  test('a /64 allocates from its first 2^20 addresses and reserves anywhere', () => {
    const pool = new SubnetAddresses(net('fd00::/64'), { gateway: addr('fd00::1') })
    expect(pool.capacity).toBe(MAX_BITMAP_ADDRESSES - 2)
    pool.reserve(addr('fd00::ffff:ffff:ffff:fffe'), 'f')
    expect(pool.has(addr('fd00::ffff:ffff:ffff:fffe'))).toBe(true)
    expect(formatAddress(pool.allocate())).toBe('fd00::2')
    expect(pool.used).toBe(2)
    expect(pool.free).toBe(MAX_BITMAP_ADDRESSES - 3) // the reservation beyond the window takes no slot
    expect(pool.usedAddresses().map(formatAddress)).toEqual(['fd00::2', 'fd00::ffff:ffff:ffff:fffe'])
    expect(pool.release(addr('fd00::ffff:ffff:ffff:fffe'))).toBe(true)
    expect(pool.used).toBe(1)
  })

  test('a gateway or range outside the subnet is refused naming it', () => {
    expect(() => new SubnetAddresses(net('10.0.1.0/24'), { gateway: addr('10.0.2.1') })).toThrow('gateway: 10.0.2.1 is not inside subnet 10.0.1.0/24')
    expect(() => new SubnetAddresses(net('10.0.1.0/24'), { range: net('10.0.0.0/16') })).toThrow('range: 10.0.0.0/16 is not inside subnet 10.0.1.0/24')
  })
})
