/**
 * The pure parts of Cluster: address options and `cluster-node.json` (round trip, typed errors
 * for a missing or damaged file).
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError, NotFoundError, systemClock } from '@swarmkit-ts/api'
import { clusterNodeStatePath, readClusterNodeState, writeClusterNodeState, type ClusterNodeState } from '../../src/cluster/node-state.ts'
import { checkAddress, hostOf } from '../../src/cluster/options.ts'
import { ipOr } from '../../src/cluster/manager-cluster.ts'
import { openRuntime } from '../../src/worker/index.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})
async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ck-units-'))
  dirs.push(d)
  return join(d, 'state')
}

describe('Cluster address options', () => {
  it('accepts host:port (names, IPv4, bracketed IPv6) and gives back its host', () => {
    fc.assert(
      fc.property(fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((ip) => `[${ip}]`)), fc.integer({ min: 0, max: 65535 }), (host, port) => {
        const address = `${host}:${port}`
        expect(checkAddress(address, 'listenAddr')).toBe(address)
        expect(hostOf(address)).toBe(host.startsWith('[') ? host.slice(1, -1) : host)
      }),
    )
  })

  it('refuses an address without a port, with a port beyond 65535 or not a string, naming the field', () => {
    for (const bad of ['127.0.0.1', 'host:', ':80', 'host:65536', 'a b:1', 42, undefined]) {
      expect(() => checkAddress(bad, 'joinAddr')).toThrow(InvalidArgumentError)
      try {
        checkAddress(bad, 'joinAddr')
      } catch (err) {
        expect((err as InvalidArgumentError).field).toBe('joinAddr')
      }
    }
  })

  it('a node address is the advertised host when it is an IP, else 127.0.0.1', () => {
    expect(ipOr('10.1.2.3')).toBe('10.1.2.3')
    expect(ipOr('::1')).toBe('::1')
    expect(ipOr('manager-1.example')).toBe('127.0.0.1')
  })
})

describe('cluster-node.json', () => {
  it('round-trips what a node records, in a 0600 file', async () => {
    const stateDir = await dir()
    const states: ClusterNodeState[] = [
      { role: 'manager', listenAddr: '127.0.0.1:4242', advertiseAddr: '10.0.0.1:4242', managers: [] },
      { role: 'worker', managers: ['10.0.0.1:4242', '10.0.0.2:4242'] },
    ]
    for (const state of states) {
      await writeClusterNodeState(stateDir, state)
      expect(await readClusterNodeState(stateDir)).toEqual(state)
    }
    expect((await stat(clusterNodeStatePath(stateDir))).mode & 0o777).toBe(0o600)
  })

  it('a missing file is NotFoundError; a damaged one FailedPreconditionError reason damaged-state', async () => {
    const stateDir = await dir()
    await expect(readClusterNodeState(stateDir)).rejects.toBeInstanceOf(NotFoundError)
    await writeClusterNodeState(stateDir, { role: 'worker', managers: [] })
    for (const text of ['{', '[]', JSON.stringify({ format: 'other', role: 'worker' }), JSON.stringify({ format: 'swarmkit-ts/cluster-node/v1', role: 'boss' })]) {
      await writeFile(clusterNodeStatePath(stateDir), text)
      await expect(readClusterNodeState(stateDir)).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'damaged-state' })
    }
  })
})

describe("a node's 'fake' runtime", () => {
  it('removes its containers on close: nothing it cannot adopt stays behind holding a timer', async () => {
    const opened = await openRuntime('fake', await dir(), {}, systemClock)
    expect(opened.adopts).toBe(false)
    const id = await opened.runtime.create({ image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] })
    await opened.runtime.start(id)
    expect((await opened.runtime.inspect(id)).state).toBe('running')
    await opened.close()
    expect(await opened.runtime.list()).toEqual([])
  })
})

