import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { busyboxOrSkip } from './helpers/driver-engines.ts'

const run = promisify(execFile)
const PACKAGE = fileURLToPath(new URL('..', import.meta.url))
const host = busyboxOrSkip()

interface JsonReport { testResults: { assertionResults: { fullName: string; status: string }[] }[] }

describe.skipIf(host.skip !== undefined)('the NetworkDriver compliance suite (controls)', () => {
  it('fails exactly the tests a broken driver breaks: removal while in use, endpoints one port off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarmkit-network-control-report-'))
    try {
      const out = join(dir, 'report.json')
      const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url))
      await run(process.execPath, [vitest, 'run', '--config', 'test/fixtures/control.vitest.config.ts', '--reporter=json', `--outputFile=${out}`], {
        cwd: PACKAGE, maxBuffer: 16 << 20, timeout: 120_000,
      }).catch(() => undefined) // Failing tests are the point: the exit code is 1.
      const report = JSON.parse(await readFile(out, 'utf8')) as JsonReport
      const results = report.testResults.flatMap((f) => f.assertionResults)
      const failed = results.filter((r) => r.status === 'failed').map((r) => r.fullName.replace(/^NetworkDriver compliance: /, '')).sort()
      expect(failed).toEqual([
        'NoRefusalDriver networks a task prepared again on another network leaves the first one free',
        'NoRefusalDriver networks refuses to remove a network while a task is prepared on it, and removes it once released',
        'WrongPortDriver tasks publishes a host-mode port on the node, reported in the task\'s port status',
        'WrongPortDriver tasks publishes an ingress port so the task answers at its reported endpoint',
      ])
      expect(results.filter((r) => r.status === 'passed').length).toBe(results.length - 4)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 180_000)
})
