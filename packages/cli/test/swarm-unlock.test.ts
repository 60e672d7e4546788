/**
 * `swarmkit swarm unlock` against `swarmkit node start open` of an autolocked manager started
 * without its key: the node waits locked (saying so), refuses every control call with
 * ClusterLockedError saying how to unlock, refuses a wrong key (staying locked), opens with the
 * right one and serves normally; unlocking an unlocked manager is refused.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { Cluster } from '@swarmkit-ts/core'
import { run } from '../src/index.ts'
import { swarmkit } from './commands-rig.ts'

const FAST_FLAGS = ['--runtime', 'fake', '--raft-tick-ms', '50', '--election-tick', '20', '--heartbeat-period-ms', '1000']

/** Polls `cond` (a guard against hanging, not a timing assertion). */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await cond()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('swarmkit swarm unlock', { timeout: 120_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  it('a manager opened without its key waits locked, refuses control calls and a wrong key, and serves once given the right key', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cli-unlock-'))
    cleanups.push(() => rm(root, { recursive: true, force: true }))
    const dir = join(root, 'm')
    const first = await Cluster.init({ stateDir: dir, listenAddr: '127.0.0.1:0', runtime: 'fake', autolock: true, raft: { tickMs: 50, electionTick: 20 } })
    const key = await first.unlockKey()
    if (key === undefined) throw new Error('no unlock key')
    await first.close()

    // `node start open` without --unlock-key: it waits locked.
    const stop = new AbortController()
    let out = ''
    let err = ''
    const node = run(['--format', 'json', 'node', 'start', 'open', '--state-dir', dir, ...FAST_FLAGS], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      stdin: Readable.from([]) as AsyncIterable<Uint8Array>,
      env: {},
      signal: stop.signal,
    })
    cleanups.push(async () => {
      stop.abort()
      await node
    })
    await until(() => err.includes('This node is locked'), 'the locked message')
    expect(err).toBe(`This node is locked: its keys are sealed under the unlock key. Unlock it with \`swarmkit --host unix://${join(dir, 'control.sock')} swarm unlock\`.\n`)

    const host = ['--state-dir', dir]
    const refused = await swarmkit([...host, 'service', 'ls'])
    expect(refused).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: ClusterLockedError: this node is locked: its keys are sealed under the unlock key. Unlock it with `swarmkit swarm unlock` (or open it with the unlock key)\n' })

    const malformed = await swarmkit([...host, 'swarm', 'unlock'], { stdin: 'SWMKEY-1-short\n' })
    expect(malformed).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: InvalidArgumentError: unlockKey: must carry 43 base64 characters (32 bytes) after the prefix\n' })
    const otherKey = `SWMKEY-1-${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`
    const wrong = await swarmkit([...host, 'swarm', 'unlock'], { stdin: `${otherKey}\n` })
    expect(wrong).toEqual({ code: 1, stdout: '', stderr: "swarmkit: ClusterLockedError: invalid unlock key: it does not open this manager's keys (was it rotated?)\n" })
    expect((await swarmkit([...host, 'service', 'ls'])).stderr).toMatch(/^swarmkit: ClusterLockedError: this node is locked/)
    expect(out).toBe('')

    expect(await swarmkit([...host, 'swarm', 'unlock'], { stdin: `${key}\n` })).toEqual({ code: 0, stdout: '', stderr: '' })
    await until(() => out.includes('\n'), 'the node started')
    expect(JSON.parse(out.split('\n')[0] ?? '')).toMatchObject({ nodeId: first.nodeId, role: 'manager' })
    await until(async () => (await swarmkit([...host, 'service', 'ls', '-q'])).code === 0, 'the control socket serving')
    expect(await swarmkit([...host, 'service', 'ls', '-q'])).toEqual({ code: 0, stdout: '', stderr: '' })

    expect(await swarmkit([...host, 'swarm', 'unlock'], { stdin: `${key}\n` })).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: FailedPreconditionError: this node is not locked\n' })
    stop.abort()
    expect(await node).toBe(0)
  })
})
