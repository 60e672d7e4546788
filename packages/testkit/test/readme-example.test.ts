// The example from README.md, kept compiling and passing.
import { generateId, sleep, validateServiceSpec } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { ManualClock, SeededRandom, arbInvalidServiceSpec, arbServiceSpec } from '../src/index.ts'

it('sleeps on virtual time and draws reproducible ids', async () => {
  const clock = new ManualClock(1_700_000_000_000)
  const random = new SeededRandom(42)
  const id = sleep(clock, 5_000).then(() => generateId(random))
  clock.advance(5_000) // runs the timer now, at exactly its due time
  expect(await id).toBe(generateId(new SeededRandom(42)))
})

it('accepts every generated spec and names the field of every broken one', () => {
  fc.assert(fc.property(arbServiceSpec(), (spec) => validateServiceSpec(spec)))
  fc.assert(
    fc.property(arbInvalidServiceSpec(), ({ spec, field }) => {
      expect(() => validateServiceSpec(spec)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
    }),
  )
})
