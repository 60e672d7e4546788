import { describe, expect, it } from 'vitest'
import { run } from '../src/main.ts'

/** The lines of a run, with the progress lines (which depend on timing) checked for form and removed. */
function fixed(lines: readonly string[]): string[] {
  const scaled = lines.indexOf('web: scaled to 6 through m3')
  const progress = lines.filter((l) => /^web: \d+\/\d+ running$/.test(l))
  expect(progress.length).toBeGreaterThanOrEqual(2)
  expect(lines.slice(0, scaled)).toContain('web: 3/3 running')
  expect(lines.slice(scaled)).toContain('web: 6/6 running')
  return lines.filter((l) => !progress.includes(l))
}

describe('three-managers', () => {
  it.each(['fake', 'process'] as const)('starts 3 managers, deploys web, scales it from 3 to 6 and closes (%s runtime)', async (runtime) => {
    const lines: string[] = []
    await run({ runtime, print: (l) => lines.push(l) })
    const rest = fixed(lines)
    expect(rest[0]).toMatch(/^m1: cluster created, manager [0-9a-z]{25} at 127\.0\.0\.1:\d+$/)
    expect(rest[1]).toMatch(/^m2: joined as a manager at 127\.0\.0\.1:\d+$/)
    expect(rest[2]).toMatch(/^m3: joined as a manager at 127\.0\.0\.1:\d+$/)
    expect(rest.slice(3)).toEqual([
      'web: created through m2 with 3 replicas',
      'web: scaled to 6 through m3',
      'web: tasks on 3 managers',
      'web: removed, every task stopped',
      'closed',
    ])
  })
})
