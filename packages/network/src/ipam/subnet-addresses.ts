/**
 * The addresses of one pool of one network: which are in use, and the next one to hand out.
 *
 * Allocation is serial, as libnetwork's (`bitmap.SetAnyInRange(…, serial=true)`): the search
 * starts after the last address allocated and wraps, so an address just released is not handed
 * out again at once (a late packet for the old task does not reach a new one).
 *
 * Reserved for the system, never given out: the network address, the gateway and, for IPv4,
 * the broadcast address (none on an IPv4 /31 or /32, which have no room for them, as in
 * libnetwork).
 *
 * **Cap for large subnets.** Dynamic allocation uses a bitmap over the *allocation window*: the
 * pool's `range` (or the whole subnet), cut to its first {@link MAX_BITMAP_ADDRESSES} addresses.
 * An IPv6 /64 therefore hands out addresses from its first 2^20; `reserve` still accepts any
 * address of the subnet (those beyond the window are kept in a sparse set).
 *
 * @module
 */
import { AlreadyExistsError, InvalidArgumentError, ResourceExhaustedError } from '@swarmkit-ts/api'
import { compareAddresses, formatAddress, formatSubnet, subnetContains, subnetLast, subnetSize } from './address.ts'
import type { IpAddress, Subnet } from './address.ts'
import { Bitmap } from './bitmap.ts'

/** The largest allocation window a pool keeps as a bitmap (2^20 addresses, 128 KiB). */
export const MAX_BITMAP_ADDRESSES = 1 << 20

/** Construction options of {@link SubnetAddresses}. */
export interface SubnetAddressesInit {
  /** The gateway, reserved (must lie in the subnet). */
  readonly gateway?: IpAddress
  /** The sub-range dynamic allocation draws from (must lie in the subnet); the whole subnet by default. */
  readonly range?: Subnet
}

/** The used addresses of one subnet, with serial allocation over a bitmap. */
export class SubnetAddresses {
  /** The subnet. */
  readonly subnet: Subnet
  /** The gateway, when there is one. */
  readonly gateway: IpAddress | undefined
  /** The range dynamic allocation draws from, when narrower than the subnet. */
  readonly range: Subnet | undefined
  /** First address of the allocation window. */
  readonly #windowBase: bigint
  readonly #bitmap: Bitmap
  /** Addresses held beyond the window (reserved by hand). */
  readonly #sparse = new Set<bigint>()
  /** System addresses (network, gateway, broadcast): never allocated, reserved, released or listed. */
  readonly #system = new Set<bigint>()
  /** Window positions held by the system. */
  readonly #systemInWindow: number
  /** Where the next serial search starts (window position). */
  #cursor = 0

  /**
   * A pool for `subnet`. `InvalidArgumentError` (field `gateway` / `range`) when the gateway or
   * the range is of another family or outside the subnet.
   */
  constructor(subnet: Subnet, init: SubnetAddressesInit = {}) {
    this.subnet = subnet
    this.gateway = init.gateway
    this.range = init.range
    if (init.gateway !== undefined && !subnetContains(subnet, init.gateway)) {
      throw new InvalidArgumentError('gateway', `${formatAddress(init.gateway)} is not inside subnet ${formatSubnet(subnet)}`)
    }
    if (init.range !== undefined && !subnetContains(subnet, init.range)) {
      throw new InvalidArgumentError('range', `${formatSubnet(init.range)} is not inside subnet ${formatSubnet(subnet)}`)
    }
    const window = init.range ?? subnet
    this.#windowBase = window.base
    const size = subnetSize(window)
    this.#bitmap = new Bitmap(Number(size < BigInt(MAX_BITMAP_ADDRESSES) ? size : BigInt(MAX_BITMAP_ADDRESSES)))
    const tiny = subnet.family === 'ipv4' && subnet.prefix >= 31
    if (!tiny) this.#system.add(subnet.base)
    if (!tiny && subnet.family === 'ipv4') this.#system.add(subnetLast(subnet))
    if (init.gateway !== undefined) this.#system.add(init.gateway.value)
    let inWindow = 0
    for (const v of this.#system) {
      const pos = this.#position(v)
      if (pos !== undefined) {
        this.#bitmap.set(pos)
        inWindow++
      }
    }
    this.#systemInWindow = inWindow
  }

  /** Number of addresses `allocate` can hand out in all (the window less the system's). */
  get capacity(): number {
    return this.#bitmap.size - this.#systemInWindow
  }

  /** Number of addresses `allocate` can still hand out (free positions of the window). */
  get free(): number {
    return this.#bitmap.size - this.#bitmap.count
  }

  /** Number of addresses in use (allocated or reserved; the system's not counted). */
  get used(): number {
    return this.#bitmap.count - this.#systemInWindow + this.#sparse.size
  }

  /**
   * Hands out the next free address after the last one allocated, wrapping around the window.
   * `ResourceExhaustedError('addresses of <subnet>')` when the window is full.
   */
  allocate(): IpAddress {
    const pos = this.#bitmap.findClearWrapping(this.#cursor)
    if (pos < 0) throw new ResourceExhaustedError(`addresses of ${formatSubnet(this.subnet)}`)
    this.#bitmap.set(pos)
    this.#cursor = pos + 1 >= this.#bitmap.size ? 0 : pos + 1
    return { family: this.subnet.family, value: this.#windowBase + BigInt(pos) }
  }

  /**
   * Marks `addr` as used (an address the store already records, or a user's static address).
   * `InvalidArgumentError(field)` when it is outside the subnet (or of another family);
   * `AlreadyExistsError` (kind `address`) when it is taken, by a task or by the system.
   */
  reserve(addr: IpAddress, field: string): void {
    if (!subnetContains(this.subnet, addr)) {
      throw new InvalidArgumentError(field, `${formatAddress(addr)} is not inside subnet ${formatSubnet(this.subnet)}`)
    }
    const taken = (what = 'already in use in'): AlreadyExistsError =>
      new AlreadyExistsError('address', formatAddress(addr), { message: `address ${formatAddress(addr)} is ${what} ${formatSubnet(this.subnet)}` })
    if (this.#system.has(addr.value)) {
      const role = addr.value === this.gateway?.value ? 'the gateway' : addr.value === this.subnet.base ? 'the network address' : 'the broadcast address'
      throw taken(`${role} of`)
    }
    const pos = this.#position(addr.value)
    if (pos === undefined) {
      if (this.#sparse.has(addr.value)) throw taken()
      this.#sparse.add(addr.value)
    } else if (!this.#bitmap.set(pos)) {
      throw taken()
    }
  }

  /** Frees `addr`; false when it was not in use (or is the system's, or outside the subnet). */
  release(addr: IpAddress): boolean {
    if (!subnetContains(this.subnet, addr) || this.#system.has(addr.value)) return false
    const pos = this.#position(addr.value)
    return pos === undefined ? this.#sparse.delete(addr.value) : this.#bitmap.clear(pos)
  }

  /** True when `addr` is in use by a task or a VIP (false for the system's addresses). */
  has(addr: IpAddress): boolean {
    if (!subnetContains(this.subnet, addr) || this.#system.has(addr.value)) return false
    const pos = this.#position(addr.value)
    return pos === undefined ? this.#sparse.has(addr.value) : this.#bitmap.get(pos)
  }

  /** The addresses in use, ascending (the system's not listed). */
  usedAddresses(): IpAddress[] {
    const family = this.subnet.family
    const out: IpAddress[] = []
    for (const pos of this.#bitmap.setPositions()) {
      const value = this.#windowBase + BigInt(pos)
      if (!this.#system.has(value)) out.push({ family, value })
    }
    for (const value of this.#sparse) out.push({ family, value })
    return out.sort(compareAddresses)
  }

  /** The window position of `value`, or undefined when it lies beyond the window. */
  #position(value: bigint): number | undefined {
    const offset = value - this.#windowBase
    return offset >= 0n && offset < BigInt(this.#bitmap.size) ? Number(offset) : undefined
  }
}
