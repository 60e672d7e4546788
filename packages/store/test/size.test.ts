import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/index.ts'
import { frozenMeta, keptSize } from '../src/objects/meta.ts'
import { estimateBytes, sizeAfterUpdate } from '../src/objects/size-estimate.ts'
import { service, task, tid } from './fixtures.ts'

const KEYS = ['id', 'spec', 'status', 'labels', 'slot', 'x']
const record = fc.dictionary(fc.constantFrom(...KEYS), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
const storeMeta = (i: bigint, size?: number): ReturnType<typeof frozenMeta> => frozenMeta({ version: { index: i }, createdAt: 1, updatedAt: 2 }, size)

describe('size estimates of updates', () => {
  it('an update estimated from its base equals a full walk (property)', () => {
    fc.assert(
      fc.property(record, record, fc.array(fc.constantFrom(...KEYS), { maxLength: 3 }), fc.boolean(), (prevRaw, changes, removed, kept) => {
        const prevBare = { ...prevRaw, meta: storeMeta(3n) }
        // A stored object, with or without its estimate kept in its meta.
        const prev = Object.freeze({ ...prevRaw, meta: storeMeta(3n, kept ? estimateBytes(prevBare) : undefined) })
        // A copy that shares what it does not replace (as recipes and callers' spread copies do),
        // with whatever meta the caller left on it.
        const next: Record<string, unknown> = { ...prev, ...changes, meta: { version: { index: 3n }, note: 'ignored' } }
        for (const k of removed) if (k !== 'id') delete next[k]
        const final = { ...next, meta: storeMeta(0n) }
        expect(sizeAfterUpdate(next, prev)).toBe(estimateBytes(final))
      }),
      { numRuns: 1000 },
    )
  })

  it('stays exact when parts move between keys (walked once: the memo is by identity)', () => {
    fc.assert(
      fc.property(record, fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...KEYS)), { maxLength: 4 }), (prevRaw, moves) => {
        const prev = Object.freeze({ ...prevRaw, meta: storeMeta(3n) })
        const next: Record<string, unknown> = { ...prev }
        for (const [from, to] of moves) if (to !== 'id' && Object.hasOwn(prev, from)) next[to] = (prev as Record<string, unknown>)[from]
        expect(sizeAfterUpdate(next, prev)).toBe(estimateBytes({ ...next, meta: storeMeta(0n) }))
      }),
      { numRuns: 500 },
    )
  })

  it("keeps an exact estimate through a service update's recipe (the old spec becomes previousSpec)", async () => {
    const store = new MemoryStore()
    const id = tid('s', 1)
    await store.update((tx) => tx.services.create(service(id, 'web')))
    for (let i = 0; i < 6; i++) {
      await store.update((tx) =>
        tx.services.update(id, (s) => {
          s.previousSpec = s.spec
          s.spec = { ...s.spec, annotations: { name: 'web', labels: { gen: 'x'.repeat(i) } } }
        }),
      )
      const s = store.view((tx) => tx.services.get(id))
      if (s === undefined) throw new Error('service missing')
      expect(s.previousSpec).toBeDefined()
      expect(keptSize(s)).toBe(estimateBytes(s))
    }
  })

  it('objects updated through the store keep an exact estimate in their meta, by recipe and by whole object', async () => {
    const store = new MemoryStore()
    const id = tid('t', 1)
    await store.update((tx) => tx.tasks.create(task(id, tid('s', 1), 1)))
    for (let i = 0; i < 20; i++) {
      await store.update((tx) => {
        if (i % 2 === 0) {
          tx.tasks.update(id, (d) => {
            d.status.message = 'x'.repeat(i)
            if (i % 4 === 0) d.spec.container = { image: `img:${i}` }
            // A top-level field added, then removed.
            if (i % 6 === 0) d.jobIteration = { index: BigInt(i) }
            if (i % 6 === 2) delete d.jobIteration
          })
        } else {
          const t = tx.tasks.get(id)
          if (t !== undefined) tx.tasks.update({ ...t, annotations: { name: `n${i}`, labels: { i: String(i) } } })
        }
      })
      const t = store.view((tx) => tx.tasks.get(id))
      if (t === undefined) throw new Error('task missing')
      expect(keptSize(t)).toBe(estimateBytes(t))
      expect(Object.keys(t.meta)).toEqual(['version', 'createdAt', 'updatedAt'])
    }
  })
})
