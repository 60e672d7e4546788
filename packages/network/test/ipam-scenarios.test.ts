/**
 * Scenario scripts: every test/testdata/ipam-*.txt script is replayed against NetworkControl on a
 * MemoryStore and an Ipam, and its output compared with the golden text. Each block is a command,
 * a `----` line and the expected output; `#` lines are comments. Regenerate with
 * UPDATE_GOLDEN=1 (then review the diff).
 *
 * Commands:
 *   cluster pools=<cidr,…> size=<n>          the cluster's default address pools
 *   create <name> [subnet= gateway= range= family=] [+ subnet= …] [ipv6] [ingress] [driver=] [vxlan=]
 *                                            (`+` starts another IPAM config)
 *   remove <name>
 *   allocate <name> [count=<n>] [ipv6]       addresses from the Ipam
 *   reserve <name> <address>  |  release <name> <address>
 *   snapshot                                 the Ipam's state
 *   rebuild                                  rebuilds an Ipam from the recorded allocations and compares
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { FailedPreconditionError, generateId } from '@swarmkit-ts/api'
import type { Cluster, IpamConfig, NetworkSpec } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import type { Frozen } from '@swarmkit-ts/store'
import { ManualClock, SeededRandom } from '@swarmkit-ts/testkit'
import { describe, expect, test } from 'vitest'
import { NetworkControl } from '../src/control/network-control.ts'
import { Ipam, VXLAN_ID_OPTION, rebuildIpam, subnetPoolInitOf } from '../src/ipam/index.ts'
import { task } from './ipam-fixtures.ts'

interface Block {
  readonly comment: string
  readonly command: string
  readonly expected: string
}

function parseScript(text: string): Block[] {
  const blocks: Block[] = []
  const lines = text.split('\n')
  let i = 0
  while (i < lines.length) {
    const comment: string[] = []
    while (i < lines.length && (lines[i] === '' || lines[i]?.startsWith('#'))) {
      if (lines[i] !== '') comment.push(lines[i] as string)
      i++
    }
    if (i >= lines.length) break
    const command = lines[i++] as string
    if (lines[i++] !== '----') throw new Error(`line ${i}: expected ---- after ${JSON.stringify(command)}`)
    const out: string[] = []
    while (i < lines.length && lines[i] !== '') out.push(lines[i++] as string)
    blocks.push({ comment: comment.join('\n'), command, expected: out.join('\n') })
  }
  return blocks
}

function renderScript(blocks: readonly Block[]): string {
  return `${blocks.map((b) => `${b.comment === '' ? '' : `${b.comment}\n`}${b.command}\n----\n${b.expected}\n`).join('\n')}`
}

class Scenario {
  readonly #clock = new ManualClock(0)
  readonly #random = new SeededRandom(1)
  readonly #store = new MemoryStore({ clock: this.#clock })
  readonly #control = new NetworkControl({ store: this.#store, clock: this.#clock, random: this.#random })
  #ipam: Ipam | undefined
  /** Addresses handed out, by network id, in order. */
  readonly #recorded = new Map<string, string[]>()

  async run(command: string): Promise<string> {
    const [verb = '', ...args] = command.split(/\s+/)
    try {
      return await this.#dispatch(verb, args)
    } catch (err) {
      const e = err as Error
      return `${e.name}: ${e.message}${err instanceof FailedPreconditionError ? ` (reason ${err.reason})` : ''}`
    }
  }

  async #dispatch(verb: string, args: string[]): Promise<string> {
    const kv = new Map<string, string>()
    for (const a of args) if (a.includes('=')) kv.set(a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1))
    switch (verb) {
      case 'cluster':
        await this.#store.update((tx) =>
          tx.clusters.create({
            id: generateId(this.#random),
            spec: { annotations: { name: 'default' } },
            rootCa: { caCert: new Uint8Array([1]), caCertHash: 'x', joinTokens: { worker: 'w', manager: 'm' } },
            defaultAddressPool: (kv.get('pools') ?? '').split(','),
            subnetSize: Number(kv.get('size') ?? '24'),
          }),
        )
        return 'ok'
      case 'create':
        return this.#create(args)
      case 'remove': {
        const n = this.#control.get(args[0] ?? '')
        await this.#control.remove(n.id)
        this.#ipam?.removeNetwork(n.id)
        this.#recorded.delete(n.id)
        return 'ok'
      }
      case 'allocate': {
        const id = this.#network(args[0] ?? '')
        const out: string[] = []
        for (let i = 0; i < Number(kv.get('count') ?? '1'); i++) out.push(this.#record(id, this.#ipamOf().allocate(id, args.includes('ipv6') ? 'ipv6' : 'ipv4')))
        return out.join(' ')
      }
      case 'reserve': {
        const id = this.#network(args[0] ?? '')
        return this.#record(id, this.#ipamOf().reserve(id, args[1] ?? '', 'address'))
      }
      case 'release': {
        const id = this.#network(args[0] ?? '')
        const list = this.#recorded.get(id) ?? []
        const released = this.#ipamOf().release(id, args[1] ?? '')
        if (released) list.splice(list.findIndex((a) => a.split('/')[0] === (args[1] ?? '').split('/')[0]), 1)
        return String(released)
      }
      case 'snapshot':
        return this.#snapshotText(this.#ipamOf())
      case 'rebuild': {
        const networks = this.#control.list()
        const tasks = [...this.#recorded].map(([networkId, addresses], i) => task(`t${i}`, [{ networkId, addresses }]))
        const { ipam, conflicts } = rebuildIpam(networks, tasks, [], subnetPoolInitOf(this.#cluster()))
        const same = JSON.stringify(ipam.snapshot()) === JSON.stringify(this.#ipamOf().snapshot())
        return `${same ? 'equal' : 'DIFFERENT'} (${conflicts.length} conflicts)`
      }
      default:
        throw new Error(`unknown command ${verb}`)
    }
  }

  async #create(args: readonly string[]): Promise<string> {
    const configs: IpamConfig[] = []
    const spec: NetworkSpec = { annotations: { name: args[0] ?? '' } }
    const options: Record<string, string> = {}
    for (const a of args.slice(1)) {
      const [k = '', v = ''] = a.split('=')
      if (a === '+' || (configs.length === 0 && ['subnet', 'gateway', 'range', 'family'].includes(k))) configs.push({})
      const c = configs.at(-1)
      if (a === '+') continue
      else if (k === 'subnet' && c) c.subnet = v
      else if (k === 'gateway' && c) c.gateway = v
      else if (k === 'range' && c) c.range = v
      else if (k === 'family' && c) c.family = v === 'ipv6' ? 'ipv6' : 'ipv4'
      else if (k === 'ipv6') spec.ipv6Enabled = true
      else if (k === 'ingress') spec.ingress = true
      else if (k === 'driver') spec.driverConfig = { name: v, ...spec.driverConfig }
      else if (k === 'vxlan') options[VXLAN_ID_OPTION] = v
      else throw new Error(`bad create argument ${a}`)
    }
    if (configs.length > 0) spec.ipam = { configs }
    if (Object.keys(options).length > 0) spec.driverConfig = { name: spec.driverConfig?.name ?? 'overlay', options }
    const n = await this.#control.create(spec)
    const pools = (n.ipam?.configs ?? []).map((c) => `${c.subnet} gw ${c.gateway ?? '-'}${c.range === undefined ? '' : ` range ${c.range}`}`)
    const vxlan = n.driverState?.options?.[VXLAN_ID_OPTION]
    return `${n.spec.annotations.name}: ${pools.join('; ')}; ${n.driverState?.name}${vxlan === undefined ? '' : ` vxlan ${vxlan}`}`
  }

  #cluster(): Frozen<Cluster> | undefined {
    return this.#store.view((tx) => tx.clusters.find()[0])
  }

  /** The Ipam, created on first use with the cluster's pools, and every stored network added. */
  #ipamOf(): Ipam {
    this.#ipam ??= new Ipam(subnetPoolInitOf(this.#cluster()))
    for (const n of this.#control.list()) if (!this.#ipam.hasNetwork(n.id)) this.#ipam.addNetwork(n)
    return this.#ipam
  }

  #network(name: string): string {
    return this.#control.get(name).id
  }

  #record(id: string, address: string): string {
    this.#recorded.set(id, [...(this.#recorded.get(id) ?? []), address])
    return address
  }

  #snapshotText(ipam: Ipam): string {
    const names = new Map(this.#control.list().map((n) => [n.id, n.spec.annotations.name]))
    return ipam
      .snapshot()
      .networks.map((n) => ({ name: names.get(n.id) ?? n.id, pools: n.pools }))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .flatMap((n) => n.pools.map((p) => `${n.name} ${p.subnet}: ${p.used.length === 0 ? '(none)' : p.used.join(' ')}`))
      .join('\n')
  }
}

const dir = new URL('./testdata/', import.meta.url)
const files = readdirSync(dir)
  .filter((f) => f.startsWith('ipam-') && f.endsWith('.txt'))
  .sort()

describe('IPAM scenario scripts', () => {
  test('there are scripts', () => {
    expect(files.length).toBeGreaterThan(0)
  })
  for (const file of files) {
    test(file, async () => {
      const blocks = parseScript(readFileSync(new URL(file, dir), 'utf8'))
      const env = new Scenario()
      const actual: Block[] = []
      for (const b of blocks) actual.push({ ...b, expected: await env.run(b.command) })
      if (process.env['UPDATE_GOLDEN'] === '1') {
        writeFileSync(new URL(file, dir), renderScript(actual))
        return
      }
      for (const [i, want] of blocks.entries()) expect(`${actual[i]?.command}\n${actual[i]?.expected}`).toBe(`${want.command}\n${want.expected}`)
    })
  }
})
