/**
 * The README demo, non-interactive: `bash scripts/demo.sh --ci` runs every step against a real
 * cluster of 5 processes (it checks each step itself and exits 1 naming a failed one), so this
 * test asserts its exit code and the steps it went through. It needs the built packages (CI
 * builds before testing; locally run `pnpm build` first); the script then does not rebuild.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
let child: ChildProcess | undefined

afterEach(() => {
  // A test that failed before the demo ended: SIGTERM makes it stop its nodes and remove its state.
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  child = undefined
})

/** Runs the demo in CI mode; resolves with its exit code and output. */
function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn('bash', [join(root, 'scripts', 'demo.sh'), '--ci'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let stdout = ''
    let stderr = ''
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    proc.on('error', reject)
    proc.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('scripts/demo.sh --ci', () => {
  it('starts 3 managers and 2 workers, serves web through the mesh, scales, updates, survives the leader killed, and cleans up', async () => {
    const { code, stdout, stderr } = await runDemo()
    expect(stderr, stdout).not.toContain('demo: FAILED')
    expect(code, `${stdout}\n${stderr}`).toBe(0)
    const headings = stdout.split('\n').filter((l) => l.includes('== ')).map((l) => l.replaceAll('\u001b[1m', '').replaceAll('\u001b[0m', ''))
    expect(headings.map((h) => h.replace(/ on port \d+ /, ' on port P '))).toEqual([
      '== 1. Start 3 managers and 2 workers (each its own process, runtime "process")',
      '== 2. Deploy "web" with 3 replicas, published on port P through the routing mesh',
      '== 3. Scale web from 3 to 6 replicas',
      '== 4. Roll out an update (GREETING=bonjour, 2 tasks at a time) with the converge display',
      '== 5. Kill the leader (kill -9) and watch the cluster recover, then restart it',
      '== 6. Your turn',
    ])
    expect(stdout).toMatch(/^\$ swarmkit node start init /m)
    expect(stdout).toMatch(/^\$ swarmkit -H unix:\/\/\S+\/m1\/control\.sock service create --name web --replicas 3 --publish \d+:80 /m)
    expect(stdout).toMatch(/^\$ swarmkit -H unix:\/\/\S+ service scale web=6$/m)
    expect(stdout).toMatch(/^\$ swarmkit -H unix:\/\/\S+ service update --env-add GREETING=bonjour --update-parallelism 2 web$/m)
    expect(stdout).toMatch(/^verify: Service [0-9a-z]{25} converged$/m)
    expect(stdout).toMatch(/^hello from node (m1|m2|m3|w1|w2), container [0-9a-z]+, pid \d+$/m)
    expect(stdout).toMatch(/^bonjour from node (m1|m2|m3|w1|w2), container [0-9a-z]+, pid \d+$/m)
    expect(stdout).toMatch(/^\$ kill -9 \d+ {4}# m[123], the leader$/m)
    expect(stdout).toMatch(/^# m[123] is the new leader/m)
    expect(stdout).toMatch(/^\$ swarmkit node start open --state-dir \S+\/m[123] --hostname m[123] --mesh-addr 127\.0\.0\.[123] /m)
    expect(stdout).toContain('demo: all steps passed')
    expect(stdout).toContain('demo: stopping every node and removing the state')
    const stateDir = /state in (\S+),/.exec(stdout)?.[1]
    expect(stateDir).toMatch(/swarmkit-demo-/)
    expect(existsSync(stateDir ?? '')).toBe(false)
  })
})
