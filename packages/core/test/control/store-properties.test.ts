import { InvalidArgumentError } from '@swarmkit-ts/api'
import { arbInvalidServiceSpec, arbServiceSpec } from '@swarmkit-ts/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { caught, controlRig, replicated } from './fixture.ts'

describe('StoreControlApi properties', () => {
  it('refuses every invalid service spec, on create and on update, naming the field and writing nothing', async () => {
    const { control, store } = controlRig()
    const existing = await control.services.create(replicated('existing', 1))
    await fc.assert(
      fc.asyncProperty(arbInvalidServiceSpec(), async ({ spec, field }) => {
        const before = store.version
        const onCreate = await caught(control.services.create(spec))
        expect(onCreate).toBeInstanceOf(InvalidArgumentError)
        expect((onCreate as InvalidArgumentError).field).toBe(field)
        const onUpdate = await caught(control.services.update(existing.id, { ...spec, annotations: { ...spec.annotations, name: 'existing' } }))
        expect(onUpdate).toBeInstanceOf(InvalidArgumentError)
        expect(store.version).toBe(before)
      }),
      { numRuns: 150 },
    )
    expect((await control.services.list()).map((s) => s.id)).toEqual([existing.id])
  })

  it('a service created from any valid spec reads back equal, by id and by name', async () => {
    const { control } = controlRig()
    let n = 0
    await fc.assert(
      fc.asyncProperty(arbServiceSpec(), async (spec) => {
        const named = { ...spec, annotations: { ...spec.annotations, name: `svc${n++}` } }
        // References to secrets, configs and networks must exist: drop them for this property.
        const container = named.task.container === undefined ? undefined : { ...named.task.container, secrets: [], configs: [] }
        const clean = { ...named, task: { ...named.task, networks: [], ...(container === undefined ? {} : { container }) }, networks: [] }
        const s = await control.services.create(clean)
        expect(await control.services.get(s.id)).toEqual(s)
        expect(await control.services.get(clean.annotations.name)).toEqual(s)
      }),
      { numRuns: 60 },
    )
  })
})
