/**
 * The converge display in a real terminal: tmux runs progress-tty-script.ts (a scripted create
 * drawn through the TTY path) and `capture-pane -p` reads the screen a user would see. tmux is
 * installed when missing and running as root; otherwise the test is skipped, saying why (with
 * CI=true it must run).
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const SCRIPT = join(import.meta.dirname, 'progress-tty-script.ts')
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx')
const BAR = `[${'='.repeat(50)}>]`

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function ensureTmux(): string | undefined {
  if (hasTmux()) return undefined
  if (process.getuid?.() === 0) {
    execFileSync('apt-get', ['install', '-y', 'tmux'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    if (hasTmux()) return undefined
  }
  if (process.env['CI'] === 'true') throw new Error('tmux is required with CI=true: apt-get install -y tmux')
  return 'tmux not found and not root: install tmux to run the converge display terminal test'
}

const skip = ensureTmux()
if (skip !== undefined) console.warn(`\n[cli] SKIPPED the tmux test: ${skip}\n`)

/**
 * A tmux server of each test only (its own socket name: a server killed by the previous test may
 * still be exiting when the next starts, and a new session on its socket then fails).
 */
let serverNo = 0
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', `swarmkit-cli-progress-${process.pid}-${serverNo}`, '-f', '/dev/null', ...args], { encoding: 'utf8' })

afterEach(() => {
  try {
    tmux('kill-server')
  } catch {
    // Already gone.
  }
  serverNo++
})

describe.skipIf(skip !== undefined)('the converge display in tmux', () => {
  /** Runs the script in a 100×30 tmux window and returns the screen once it has ended. */
  async function runInTmux(arg = ''): Promise<string[]> {
    const command = `'${TSX}' --conditions=@swarmkit-ts/source '${SCRIPT}' ${arg}; echo "EXIT=$?"; sleep 600`
    tmux('new-session', '-d', '-s', 'progress', '-x', '100', '-y', '30', '-c', ROOT, command)
    let screen = ''
    // Waits for the script to end (a guard, not a timing assertion).
    for (let i = 0; i < 600 && !screen.includes('EXIT='); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      screen = tmux('capture-pane', '-p', '-t', 'progress')
    }
    return screen.trimEnd().split('\n')
  }

  it('redraws in place: the final screen shows each line once, converged', async () => {
    expect(await runInTmux()).toEqual([
      'overall progress: 3 out of 3 tasks',
      `1/3: running   ${BAR}`,
      `2/3: running   ${BAR}`,
      `3/3: running   ${BAR}`,
      'verify: Service svc1 converged',
      'EXIT=0',
    ])
  }, 90_000)

  it('control: the plain screen in the same terminal leaves every change on screen', async () => {
    const screen = await runInTmux('plain')
    expect(screen.slice(0, 4)).toEqual(['overall progress: 0 out of 3 tasks', '1/3: new', '2/3: new', '3/3: pending'])
    expect(screen.slice(-3)).toEqual(['verify: Waiting 1 seconds to verify that tasks are stable...', 'verify: Service svc1 converged', 'EXIT=0'])
    expect(screen).toContain('2/3: starting container failed: no such file or directory')
  }, 90_000)
})
