import { describe, expect, it } from 'vitest'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { ManagerList } from '../src/worker/index.ts'

const m = (addr: string, weight: number) => ({ nodeId: addr, addr, weight })

describe('ManagerList', () => {
  it('picks managers in proportion to their weight', () => {
    const list = new ManagerList([m('a', 3), m('b', 1)])
    const random = new SeededRandom(11)
    const counts = { a: 0, b: 0 }
    for (let i = 0; i < 4000; i++) counts[list.select(random)?.addr as 'a' | 'b']++
    expect(counts.a + counts.b).toBe(4000)
    expect(counts.a).toBeGreaterThan(2800)
    expect(counts.a).toBeLessThan(3200)
  })

  it('avoids the managers that failed until every one has failed as often', () => {
    const list = new ManagerList([m('a', 100), m('b', 1), m('c', 1)])
    const random = new SeededRandom(5)
    list.failed('a')
    list.failed('b')
    expect(list.select(random)?.addr).toBe('c')
    list.failed('c')
    expect(['a', 'b', 'c']).toContain(list.select(random)?.addr)
    list.succeeded('a')
    expect(list.select(random)?.addr).toBe('a')
  })

  it('goes to the named leader once, when the list holds it', () => {
    const list = new ManagerList([m('a', 100), m('b', 1)])
    const random = new SeededRandom(1)
    list.prefer('b')
    expect(list.select(random)?.addr).toBe('b')
    list.prefer('unknown')
    expect(list.select(random)?.addr).toBe('a')
  })

  it('keeps the failures of the managers a new list still holds, and selects nothing from an empty list', () => {
    const list = new ManagerList([m('a', 1), m('b', 1)])
    list.failed('a')
    list.replace([m('a', 1), m('c', 1)])
    expect(list.select(new SeededRandom(2))?.addr).toBe('c')
    expect(new ManagerList().select(new SeededRandom(2))).toBeUndefined()
  })
})
