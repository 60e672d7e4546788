/**
 * `swarmkit node start open --force-new-cluster`: one manager of two (the other lost) restarts as
 * the only manager, keeping its services; the lost manager's node shows `Unreachable` and is
 * removed without a demotion; writes work again.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { Cluster } from '@swarmkit-ts/core'
import { run } from '../src/index.ts'
import { rowsOf, swarmkit } from './commands-rig.ts'

const FAST = { runtime: 'fake', raft: { tickMs: 50, electionTick: 20 }, heartbeatPeriodMs: 1000 } as const
const FAST_FLAGS = ['--runtime', 'fake', '--raft-tick-ms', '50', '--election-tick', '20', '--heartbeat-period-ms', '1000']

describe('swarmkit node start open --force-new-cluster', { timeout: 120_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  it('restarts a manager of a cluster that lost its quorum as the only manager, with its services; the lost manager is removed and writes work', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cli-fnc-'))
    cleanups.push(() => rm(root, { recursive: true, force: true }))
    const m1 = await Cluster.init({ stateDir: join(root, 'm1'), listenAddr: '127.0.0.1:0', hostname: 'm1', ...FAST })
    const m2 = await Cluster.join({ stateDir: join(root, 'm2'), joinAddr: m1.address, token: (await m1.joinTokens()).manager, listenAddr: '127.0.0.1:0', hostname: 'm2', ...FAST })
    await m1.services.create({ annotations: { name: 'web' }, mode: { replicated: { replicas: 0 } }, task: { container: { image: 'busybox' } } })
    await m2.close() // lost for good
    await m1.close()

    const stop = new AbortController()
    let out = ''
    const node = run(['--format', 'json', 'node', 'start', 'open', '--force-new-cluster', '--state-dir', join(root, 'm1'), '--hostname', 'm1', ...FAST_FLAGS], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => true },
      stdin: Readable.from([]) as AsyncIterable<Uint8Array>,
      env: {},
      signal: stop.signal,
    })
    cleanups.push(async () => {
      stop.abort()
      await node
    })
    for (let i = 0; i < 1200 && !out.includes('\n'); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(JSON.parse(out.split('\n')[0] ?? '')).toMatchObject({ nodeId: m1.nodeId, role: 'manager' })

    const host = ['--state-dir', join(root, 'm1')]
    // MANAGER STATUS of each node, with the leader's HOSTNAME (m2's depends on whether its first session ran).
    const managerStatus = async (): Promise<string[]> =>
      rowsOf((await swarmkit([...host, 'node', 'ls'])).stdout)
        .slice(1)
        .map((r) => (r[4] === 'Leader' ? `${r[1] ?? ''} Leader` : (r[4] ?? '')))
        .sort()
    const expected = JSON.stringify(['Unreachable', 'm1 Leader'])
    for (let i = 0; i < 1200 && JSON.stringify(await managerStatus()) !== expected; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await managerStatus()).toEqual(['Unreachable', 'm1 Leader'])
    expect((await swarmkit([...host, 'service', 'ls', '--format', '{{.Name}}'])).stdout).toBe('web\n')
    expect(await swarmkit([...host, 'node', 'rm', '--force', m2.nodeId])).toMatchObject({ code: 0, stderr: '' })
    expect((await swarmkit([...host, 'service', 'create', '--detach', '--name', 'after', 'busybox'])).code).toBe(0)
    expect((await swarmkit([...host, 'service', 'ls', '--format', '{{.Name}}'])).stdout).toBe('after\nweb\n')
    stop.abort()
    expect(await node).toBe(0)
  })
})
