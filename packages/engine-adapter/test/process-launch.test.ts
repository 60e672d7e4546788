import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { findSetsid, spawnWorkload } from '../src/process/process-launch.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('spawnWorkload', () => {
  // A workload that ends at once: its shim prints the pid and exits right after. The shim's exit
  // event can come before its stdout was read (it did under load: "shim exited (0) before
  // reporting the workload's pid", and a job's task failed); the pid must still be reported.
  it('reports the pid of workloads that end at once, every time', async () => {
    const setsid = findSetsid()
    expect(setsid).toBeDefined()
    const starts = Array.from({ length: 40 }, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'launch-'))
      dirs.push(dir)
      const w = await spawnWorkload({ shell: '/bin/sh', setsid: setsid ?? '', exe: '/bin/true', config: { argv: ['true'], env: { PATH: '/usr/bin:/bin' }, cwd: dir }, dir })
      expect(w.pid).toBeGreaterThan(0)
      return w.exit
    })
    expect(await Promise.all(starts)).toEqual(Array.from({ length: 40 }, () => 0))
  }, 60_000)
})
