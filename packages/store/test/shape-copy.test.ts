import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { copyObject } from '../src/objects/shape-copy.ts'

describe('copyObject', () => {
  it('copies own enumerable keys, values and order exactly, before and after a key list is compiled', () => {
    const src = Object.freeze({ id: 'x', meta: { v: 1 }, slot: 3, '0': 'zero', 'a-b': null, undef: undefined })
    for (let i = 0; i < 10; i++) {
      const c = copyObject(src)
      expect(c).not.toBe(src)
      expect(Object.isFrozen(c)).toBe(false)
      expect(Object.keys(c)).toEqual(Object.keys(src))
      expect(Object.hasOwn(c, 'undef')).toBe(true)
      expect(c).toStrictEqual({ ...src })
      expect(c['meta']).toBe(src.meta)
    }
  })

  it('keeps an own __proto__ key as data and never changes the prototype', () => {
    const src = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>
    for (let i = 0; i < 10; i++) {
      const c = copyObject(src)
      expect(Object.getPrototypeOf(c)).toBe(Object.prototype)
      expect(Object.keys(c)).toEqual(['__proto__', 'a'])
      expect((c as { polluted?: unknown }).polluted).toBeUndefined()
    }
  })

  it('equals a spread copy for any record (property), seen once or many times', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue(), { maxKeys: 60 }), fc.integer({ min: 1, max: 6 }), (rec, times) => {
        const src = Object.freeze(rec)
        for (let i = 0; i < times; i++) {
          const c = copyObject(src)
          expect(Object.keys(c)).toEqual(Object.keys(src))
          expect(c).toStrictEqual({ ...src })
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('copyObject without code generation', () => {
  it('still copies exactly (by spread) when the runtime refuses new Function', async () => {
    const { execFileSync } = await import('node:child_process')
    const { fileURLToPath } = await import('node:url')
    const src = fileURLToPath(new URL('../src/objects/shape-copy.ts', import.meta.url))
    const script = `const { copyObject } = await import(${JSON.stringify(src)});
      const o = Object.freeze({ a: 1, b: 'x', c: { d: 2 } });
      let out;
      for (let i = 0; i < 10; i++) out = copyObject(o);
      console.log(JSON.stringify([Object.keys(out), out, out.c === o.c, Object.isFrozen(out)]))`
    const printed = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(JSON.parse(printed)).toEqual([['a', 'b', 'c'], { a: 1, b: 'x', c: { d: 2 } }, true, false])
  })
})
