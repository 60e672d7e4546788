import { describe, expect, it } from 'vitest'
import { HealthMonitor, type RunProbe } from '../src/containerd/containerd-health.ts'
import type { HealthStatus } from '../src/runtime.ts'

/** A probe that answers from a script, one answer per call, and says when the script is used up. */
function scripted(answers: readonly (number | undefined | 'throw')[]): { run: RunProbe; done: Promise<void> } {
  let i = 0
  let finish: () => void = () => undefined
  const done = new Promise<void>((resolve) => { finish = resolve })
  const run: RunProbe = () => {
    const a = answers[i++]
    if (i >= answers.length) finish()
    if (a === 'throw') return Promise.reject(new Error('probe failed'))
    return Promise.resolve(a)
  }
  return { run, done }
}

describe('HealthMonitor (containerd health checks)', () => {
  it('does not count probes that could not reach the engine: health stays as it was', async () => {
    const changes: HealthStatus[] = []
    const { run, done } = scripted([0, undefined, undefined, undefined, undefined, 0])
    const m = new HealthMonitor({ test: ['CMD', 'true'], intervalMs: 1, retries: 1 }, run, (s) => changes.push(s))
    await done
    await new Promise((r) => setImmediate(r))
    m.stop()
    expect(changes).toEqual(['healthy'])
    expect(m.status).toBe('healthy')
  })

  it('counts failed probes (exit code or error) towards unhealthy', async () => {
    const changes: HealthStatus[] = []
    const { run, done } = scripted([0, undefined, 1, 'throw'])
    const m = new HealthMonitor({ test: ['CMD', 'true'], intervalMs: 1, retries: 2 }, run, (s) => changes.push(s))
    await done
    await new Promise((r) => setImmediate(r))
    m.stop()
    expect(changes).toEqual(['healthy', 'unhealthy'])
  })
})
