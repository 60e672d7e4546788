import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const script = join(here, 'fixtures', 'init-close.ts')

/** Runs the fixture in a process of its own; resolves with its exit code and output once it exits. A process still alive after 60 s is killed (code null). */
function runFixture(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@swarmkit-ts/source', '--import', 'tsx', script, ...args], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(guard)
      resolve({ code, stdout, stderr })
    })
  })
}

describe('a closed node lets its process exit', () => {
  it('Cluster.init closed at once: the process exits by itself (no gRPC channel left connecting)', async () => {
    expect(await runFixture()).toMatchObject({ code: 0, stdout: 'closed\n' })
  }, 90_000)

  it('a manager and a worker joined to it, both closed at once: the process exits by itself', async () => {
    expect(await runFixture('join')).toMatchObject({ code: 0, stdout: 'closed\n' })
  }, 90_000)
})
