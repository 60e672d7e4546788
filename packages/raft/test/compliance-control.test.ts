/**
 * Controls for the published compliance suites: run against implementations that each break one
 * obligation (test/fixtures/compliance-control), the suites fail exactly the tests of that
 * obligation — so a suite that passes means something.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'compliance-control')

interface JsonReport {
  testResults: Array<{ assertionResults: Array<{ ancestorTitles: string[]; title: string; status: string }> }>
}

/** Runs the fixture suites in a child vitest; the failed tests' titles, by suite. */
async function failures(): Promise<Record<string, string[]>> {
  const out = await mkdtemp(join(tmpdir(), 'raft-compliance-control-'))
  try {
    const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')
    const file = join(out, 'report.json')
    await new Promise<void>((resolve) => {
      // The child exits non-zero (its tests fail on purpose): the report is what counts.
      execFile(process.execPath, [vitest, 'run', '--root', fixtures, '--reporter=json', `--outputFile=${file}`], { timeout: 170_000 }, () => resolve())
    })
    const report = JSON.parse(await readFile(file, 'utf8')) as JsonReport
    const failed: Record<string, string[]> = {}
    for (const r of report.testResults) {
      for (const a of r.assertionResults) {
        const suite = a.ancestorTitles[0] ?? ''
        failed[suite] ??= []
        if (a.status !== 'passed') failed[suite].push(a.title)
      }
    }
    for (const list of Object.values(failed)) list.sort()
    return failed
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}

describe('compliance suites (controls)', () => {
  it('fail exactly the tests of the obligation each broken implementation breaks', async () => {
    expect(await failures()).toEqual({
      'RaftTransport compliance: reorders': [
        'delivers the messages of one sender to one peer in the order they were sent',
        'keeps 64-bit member ids exact and delivers each message to its own peer only',
        "tells the receiver the sender's id and address as the origin, also for a relayed message",
      ],
      'RaftTransport compliance: sync-handlers': ['never calls a handler from inside send: a peer without an address is reported unreachable later'],
      'RaftTransport compliance: handlers-after-stop': [
        'calls no handler once stop() resolved, and ignores send afterwards',
        'reports a stopped peer unreachable, and reaches its restarted process at a new address',
      ],
      'RaftStorage compliance: forgets-hard-state': ['keeps 64-bit member ids exact in hard state and configuration', 'keeps the hard state'],
    })
  }, 180_000)
})
