import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CliRig, FAST_NODE_FLAGS, foregroundNodes, rowsOf, swarmkit, type Started } from './commands-rig.ts'

const FAST_FLAGS = ['--runtime', 'fake', ...FAST_NODE_FLAGS]
const CLI_DIR = fileURLToPath(new URL('..', import.meta.url))

describe('swarmkit node start', { timeout: 90_000 }, () => {
  const rig = new CliRig()
  const startNode = foregroundNodes()

  it('inits a manager and joins a worker in the foreground, serves the CLI on its socket, and closes both on abort', async () => {
    const manager = startNode(['init', '--state-dir', join(await rig.dir(), 'm'), '--hostname', 'm1', ...FAST_FLAGS])
    const m = await manager.ready
    expect(m.role).toBe('manager')
    expect(m.tokens?.worker).toMatch(/^SWMTKN-1-/)
    const worker = startNode(['join', '--state-dir', join(await rig.dir(), 'w'), '--join-addr', m.address, '--token', m.tokens?.worker ?? '', '--hostname', 'w1', ...FAST_FLAGS], { stopFirst: true })
    const w = await worker.ready
    expect(w).toEqual({ nodeId: w.nodeId, role: 'worker', address: w.address })

    const host = ['--host', `unix://${m.controlSocket ?? ''}`]
    const hostnames = async (): Promise<string[]> => rowsOf((await swarmkit([...host, 'node', 'ls'])).stdout).map((r) => r[1] ?? '').sort()
    // The worker's hostname arrives with its first session (a guard, not a timing assertion).
    for (let i = 0; i < 600 && !(await hostnames()).includes('w1'); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await hostnames()).toEqual(['HOSTNAME', 'm1', 'w1'])

    worker.stop.abort()
    expect(await worker.done).toEqual({ code: 0, stdout: `${JSON.stringify(w)}\n`, stderr: `swarmkit: closing worker ${w.nodeId}\n` })
    manager.stop.abort()
    const closed = await manager.done
    expect(closed.code).toBe(0)
    expect(closed.stderr).toBe(`swarmkit: closing manager ${m.nodeId}\n`)
  })

  it('opens an autolocked manager only with its unlock key, read from stdin with --unlock-key -', async () => {
    const dir = join(await rig.dir(), 'm')
    const first = startNode(['init', '--autolock', '--state-dir', dir, ...FAST_FLAGS])
    const m = await first.ready
    const key = (m as Started & { unlockKey?: string }).unlockKey ?? ''
    expect(key).toMatch(/^SWMKEY-1-/)
    first.stop.abort()
    expect((await first.done).code).toBe(0)

    // A wrong key given on the command line fails at once (without a key it waits locked: swarm-unlock.test.ts).
    const locked = await swarmkit(['node', 'start', 'open', '--unlock-key', `SWMKEY-1-${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`, '--state-dir', dir, ...FAST_FLAGS])
    expect(locked.code).toBe(1)
    expect(locked.stderr).toMatch(/^swarmkit: ClusterLockedError: [^\n]+\n$/)
    const reopened = startNode(['open', '--unlock-key', '-', '--state-dir', dir, ...FAST_FLAGS], { stdin: `${key}\n` })
    expect(await reopened.ready).toEqual({ nodeId: m.nodeId, role: 'manager', address: m.address, controlSocket: m.controlSocket })
  })

  it('refuses a join without a token, and a bad mode, as usage errors', async () => {
    const dir = await rig.dir()
    expect(await swarmkit(['node', 'start', 'join', '--state-dir', dir, '--join-addr', '127.0.0.1:1'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'swarmkit: InvalidArgumentError: --token: join needs --join-addr and --token\n',
    })
    expect(await swarmkit(['node', 'start', 'boot', '--state-dir', dir])).toEqual({ code: 2, stdout: '', stderr: 'swarmkit: InvalidArgumentError: <mode>: must be one of init, join, open, got "boot"\n' })
    expect(await swarmkit(['node', 'start', 'init'])).toEqual({ code: 2, stdout: '', stderr: "swarmkit: UsageError: required option '--state-dir <dir>' not specified\n" })
  })
})

/** Runs the bin from source (tsx) and resolves its exit code and output; `onLine` sees stdout lines. */
function spawnBin(argv: readonly string[], onLine?: (line: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@swarmkit-ts/source', '--import', 'tsx', join(CLI_DIR, 'src/bin.ts'), ...argv], { cwd: CLI_DIR, env: { ...process.env, SWARMKIT_HOST: '' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      for (const line of d.toString().split('\n').filter((l) => l !== '')) onLine?.(line, (sig) => child.kill(sig))
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('the swarmkit bin', { timeout: 90_000 }, () => {
  const rig = new CliRig()

  it('exits 1 with one line when no manager listens, 2 on a bad command line, 0 on --help', async () => {
    expect(await spawnBin(['--host', 'unix:///nonexistent/control.sock', 'service', 'ls'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'swarmkit: UnavailableError: no manager control socket at /nonexistent/control.sock: start a manager (swarmkit node start init --state-dir <dir>), or point --host or $SWARMKIT_HOST at its control.sock\n',
    })
    expect(await spawnBin(['service', 'ls', '--nope'])).toEqual({ code: 2, stdout: '', stderr: "swarmkit: UsageError: unknown option '--nope'\n" })
    const help = await spawnBin(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout.split('\n')[0]).toBe('Usage: swarmkit [options] [command]')
  })

  it('runs node start until SIGTERM, then closes the node and exits 0', async () => {
    const dir = join(await rig.dir(), 'm')
    let ready: Started | undefined
    const r = await spawnBin(['--format', 'json', 'node', 'start', 'init', '--state-dir', dir, ...FAST_FLAGS], (line, kill) => {
      ready = JSON.parse(line) as Started
      kill('SIGTERM')
    })
    expect(ready?.role).toBe('manager')
    expect(r).toEqual({ code: 0, stdout: `${JSON.stringify(ready)}\n`, stderr: `swarmkit: closing manager ${ready?.nodeId ?? ''}\n` })
  })
})
