import { expect, it } from 'vitest'
import { run } from '../src/main.ts'

it('prints the walkthrough', () => {
  const lines: string[] = []
  run((l) => lines.push(l))
  expect(lines).toEqual([
    'valid: web, update parallelism 1, restart any after 5000 ms',
    expect.stringMatching(/^InvalidArgumentError at task\.resources\.limits\.memoryBytes: /),
    expect.stringMatching(/^protobuf: \d+ bytes, round trip equal: true$/),
    'worker-1 satisfies the placement constraints: true',
  ])
})
