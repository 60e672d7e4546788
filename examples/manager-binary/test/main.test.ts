import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { connectControlSocket, type ControlClient } from '@swarmkit-ts/core'
import { parseFlags, UsageError } from '../src/main.ts'
import { NodeProcess } from '../src/node-process.ts'

const FAST = ['--runtime', 'fake', '--raft-tick-ms', '50', '--election-tick', '20', '--heartbeat-period-ms', '1000']

const children: NodeProcess[] = []
const clients: ControlClient[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const p of children.splice(0)) await p.kill()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function stateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mb-'))
  dirs.push(d)
  return join(d, 's')
}

function start(args: readonly string[]): NodeProcess {
  const p = NodeProcess.start(args)
  children.push(p)
  return p
}

async function until(cond: () => Promise<boolean>, what: string, guardMs = 45_000): Promise<void> {
  const deadline = Date.now() + guardMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('manager-binary', () => {
  it('inits a manager, serves its control socket, closes on SIGTERM and comes back with open', async () => {
    const dir = await stateDir()
    const first = start(['init', '--state-dir', dir, ...FAST])
    const ready = await first.ready
    expect(Object.keys(ready)).toEqual(['nodeId', 'role', 'address', 'controlSocket', 'tokens'])
    expect(ready.nodeId).toMatch(/^[0-9a-z]{25}$/)
    expect(ready.role).toBe('manager')
    expect(ready.address).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(ready.controlSocket).toBe(join(dir, 'control.sock'))
    expect(Object.keys(ready.tokens ?? {})).toEqual(['manager', 'worker'])
    expect(ready.tokens?.manager).toMatch(/^SWMTKN-1-/)
    expect(ready.tokens?.worker).toMatch(/^SWMTKN-1-/)
    const control = connectControlSocket(join(dir, 'control.sock'))
    clients.push(control)
    const web = await control.services.create({ annotations: { name: 'web' }, mode: { replicated: { replicas: 2 } }, task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } } })
    const running = async (): Promise<boolean> => (await control.tasks.list({ serviceIds: [web.id] })).filter((t) => t.status.state === TaskState.RUNNING).length === 2
    await until(running, 'two tasks running')

    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    expect(first.stderr).toBe(`manager-binary: SIGTERM: closing manager ${ready.nodeId}\n`)

    const again = start(['open', '--state-dir', dir, ...FAST])
    const reopened = await again.ready
    expect(reopened).toEqual({ nodeId: ready.nodeId, role: 'manager', address: ready.address, controlSocket: ready.controlSocket })
    const control2 = connectControlSocket(join(dir, 'control.sock'))
    clients.push(control2)
    expect((await control2.services.get('web')).id).toBe(web.id)
    await until(async () => (await control2.tasks.list({ serviceIds: [web.id] })).filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING).length === 2, 'two tasks running again')
    expect(await again.stop('SIGINT')).toEqual({ code: 0, signal: null })
  })

  it('init --autolock prints the unlock key once; open refuses without it (ClusterLockedError) and runs with it', async () => {
    const dir = await stateDir()
    const first = start(['init', '--state-dir', dir, '--autolock', ...FAST])
    const ready = await first.ready
    expect(ready.unlockKey).toMatch(/^SWMKEY-1-/)
    expect(await first.stop()).toEqual({ code: 0, signal: null })

    const locked = start(['open', '--state-dir', dir, ...FAST])
    expect(await locked.exited).toEqual({ code: 1, signal: null })
    expect(locked.stderr).toMatch(/^manager-binary: ClusterLockedError: [^\n]+\n$/)

    const unlocked = start(['open', '--state-dir', dir, '--unlock-key', ready.unlockKey ?? '', ...FAST])
    expect((await unlocked.ready).nodeId).toBe(ready.nodeId)
    expect(await unlocked.stop()).toEqual({ code: 0, signal: null })
  })

  it('prints a ready line per role change: a worker promoted, then demoted, and SIGTERM closes the node of the last line', async () => {
    const m1 = start(['init', '--state-dir', await stateDir(), ...FAST])
    const manager = await m1.ready
    const w1 = start(['join', '--state-dir', await stateDir(), '--join-addr', manager.address, '--token', manager.tokens?.worker ?? '', ...FAST])
    const worker = await w1.ready
    expect(worker.role).toBe('worker')
    const control = connectControlSocket(manager.controlSocket ?? '')
    clients.push(control)
    const setRole = async (role: 'manager' | 'worker'): Promise<void> => {
      const node = await control.nodes.get(worker.nodeId)
      await control.nodes.update(worker.nodeId, { ...node.spec, desiredRole: role }, { version: node.meta.version.index })
    }
    await until(async () => (await control.nodes.get(worker.nodeId)).status.state === 'ready', 'the worker ready')
    await setRole('manager')
    const promoted = await w1.line(1)
    expect(Object.keys(promoted)).toEqual(['nodeId', 'role', 'address', 'controlSocket'])
    expect([promoted.nodeId, promoted.role]).toEqual([worker.nodeId, 'manager'])
    expect(promoted.address).toMatch(/^127\.0\.0\.1:\d+$/)
    const own = connectControlSocket(promoted.controlSocket ?? '')
    clients.push(own)
    await until(async () => (await own.nodes.list({ roles: ['manager'] })).length === 2, 'two managers, through the promoted one')
    await setRole('worker')
    expect(await w1.line(2)).toEqual({ nodeId: worker.nodeId, role: 'worker', address: worker.address })
    expect(w1.lines()).toHaveLength(3)
    expect(await w1.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    expect(w1.stderr).toBe(`manager-binary: SIGTERM: closing worker ${worker.nodeId}\n`)
  }, 120_000)

  it('exits 2 with one line naming the flag on a bad command line, 1 with the typed error on a bad value', async () => {
    const dir = await stateDir()
    const bad = start(['init', '--state-dir', dir, '--runtime', 'podman'])
    expect(await bad.exited).toEqual({ code: 2, signal: null })
    expect(bad.stderr).toBe("manager-binary: UsageError: option '--runtime <kind>' argument 'podman' is invalid. Allowed choices are process, docker, containerd, fake.\n")
    const addr = start(['init', '--state-dir', dir, '--listen-addr', 'nowhere', '--runtime', 'fake'])
    expect(await addr.exited).toEqual({ code: 1, signal: null })
    expect(addr.stderr).toBe('manager-binary: InvalidArgumentError: listenAddr: must be host:port, got "nowhere"\n')
  })

  it('parses each command and refuses what is missing or unknown, naming it', () => {
    expect(parseFlags(['join', '--state-dir', 'w', '--join-addr', '127.0.0.1:4242', '--token', 'SWMTKN-1-x', '--runtime', 'fake', '--election-tick', '20'])).toEqual({
      command: 'join', stateDir: 'w', runtime: 'fake', joinAddr: '127.0.0.1:4242', token: 'SWMTKN-1-x', electionTick: 20,
    })
    expect(parseFlags(['open', '--state-dir', 'm', '--unlock-key', 'SWMKEY-1-k'])).toEqual({ command: 'open', stateDir: 'm', runtime: 'process', unlockKey: 'SWMKEY-1-k', forceNewCluster: false })
    expect(parseFlags(['open', '--state-dir', 'm', '--force-new-cluster'])).toEqual({ command: 'open', stateDir: 'm', runtime: 'process', forceNewCluster: true })
    expect(parseFlags(['init', '--state-dir', 'm', '--autolock'])).toEqual({ command: 'init', stateDir: 'm', runtime: 'process', listenAddr: '127.0.0.1:0', autolock: true })
    expect(() => parseFlags(['join', '--state-dir', 'w', '--token', 't'])).toThrow(new UsageError("required option '--join-addr <host:port>' not specified"))
    expect(() => parseFlags(['init', '--state-dir', 'm', '--raft-tick-ms', '0'])).toThrow(new UsageError("option '--raft-tick-ms <ms>' argument '0' is invalid. must be a positive integer."))
    expect(() => parseFlags(['init', '--state-dir', 'm', '--frobnicate'])).toThrow(new UsageError("unknown option '--frobnicate'"))
    expect(() => parseFlags([])).toThrow(new UsageError('missing command: init, join or open'))
    const help = parseFlags(['init', '--help'])
    expect(help.command).toBe('help')
    expect(help.command === 'help' && help.text.includes('--state-dir <dir>')).toBe(true)
  })
})
