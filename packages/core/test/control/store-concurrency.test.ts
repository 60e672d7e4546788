import { SequenceConflictError } from '@swarmkit-ts/api'
import type { Node } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { StoreControlApi } from '../../src/control/store-control-api.ts'
import { addNode, caught, controlRig, idOf, replicated } from './fixture.ts'

describe('StoreControlApi under concurrent writes', () => {
  it('scale without a version never overwrites a concurrent update of the same service', async () => {
    const { control } = controlRig()
    const s = await control.services.create(replicated('web', 1))
    const labelled = { ...replicated('web', 1), annotations: { name: 'web', labels: { team: 'a' } } }
    const [, scaled] = await Promise.all([control.services.update(s.id, labelled), control.services.scale(s.id, 4)])
    const final = await control.services.get(s.id)
    expect(final.spec.annotations.labels).toEqual({ team: 'a' })
    expect(final.spec.mode).toEqual({ replicated: { replicas: 4 } })
    expect(scaled.spec).toEqual(final.spec)
  })

  it('refuses a role change when the desired role changed while the membership hook decided', async () => {
    const rig = controlRig()
    await addNode(rig.store, idOf('m1'), { role: 'manager' })
    const m2 = await addNode(rig.store, idOf('m2'), { role: 'manager' })
    // A hook that, while deciding, lets another writer demote the node first.
    const control = new StoreControlApi({
      store: rig.store,
      clock: rig.clock,
      random: rig.random,
      membership: {
        promote: () => Promise.resolve(),
        remove: () => Promise.resolve(),
        demote: async (node: Frozen<Node>) => {
          await rig.store.update((tx) => tx.nodes.update(node.id, (d) => void (d.spec.desiredRole = 'worker')))
        },
      },
    })
    const err = await caught(control.nodes.update(m2.id, { ...m2.spec, desiredRole: 'worker', availability: 'drain' }))
    expect(err).toBeInstanceOf(SequenceConflictError)
    expect((await control.nodes.get(m2.id)).spec.availability).toBe('active')
  })
})
