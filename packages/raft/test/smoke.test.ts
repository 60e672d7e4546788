import { describe, expect, it } from 'vitest'
import { Sim } from './helpers/sim.ts'

describe('smoke', () => {
  it('elects and replicates', () => {
    const sim = new Sim({ ids: [1n, 2n, 3n] })
    sim.campaign(1n)
    expect(sim.node(1n).state).toBe('leader')
    sim.propose(1n, 'a')
    sim.propose(2n, 'b')
    for (const id of [1n, 2n, 3n]) expect(sim.node(id).appliedData()).toEqual(['a', 'b'])
    expect(sim.node(3n).log()).toEqual([[1, 1, 'cc'], [2, 1, 'cc'], [3, 1, 'cc'], [4, 2, ''], [5, 2, 'a'], [6, 2, 'b']])
  })
})
