import { describe, expect, it } from 'vitest'
import { run } from '../src/main.ts'
import { rootfsHost } from './host.ts'

const host = await rootfsHost()

describe.skipIf(host.skipped)('custom-runtime example', () => {
  // run() closes the manager and the runtime and removes its temp dir itself, also on failure.
  it('runs a 3-replica service with a healthcheck in RootfsRuntime through Cluster.init (its tasks are the healthy containers), scales it to 1, removes it and closes', async () => {
    const lines: string[] = []
    await run({ ...(host.busybox === undefined ? {} : { busybox: host.busybox }), print: (l) => lines.push(l) })
    expect(lines[0]).toMatch(/^m1: cluster created, manager [0-9a-z]{25} at 127\.0\.0\.1:\d+, tasks on the rootfs runtime$/)
    expect(lines.slice(1)).toEqual([
      'hello: created with 3 replicas',
      'hello: converged, its 3 running tasks are the 3 running rootfs containers, 3 healthy',
      'hello: 3 containers said hello from their own hostname',
      'hello: scaled to 1, 1 container running',
      'hello: removed, no container running',
      'closed',
    ])
  }, 240_000)
})
