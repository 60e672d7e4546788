import { describe, expect, it } from 'vitest'
import { deepFreeze } from '../src/control/frozen.ts'

describe('deepFreeze', () => {
  it('freezes objects and arrays all the way down, in place, and leaves byte arrays and primitives as they are', () => {
    const bytes = new Uint8Array([1, 2])
    const v = { a: { b: [{ c: 1 }, 'x', null], d: bytes }, e: 5n, f: undefined }
    expect(deepFreeze(v)).toBe(v)
    expect([v, v.a, v.a.b, v.a.b[0]].map((o) => Object.isFrozen(o))).toEqual([true, true, true, true])
    expect(Object.isFrozen(bytes)).toBe(false)
    bytes[0] = 9
    expect(v.a.d[0]).toBe(9)
    expect([deepFreeze(null), deepFreeze(3), deepFreeze('s')]).toEqual([null, 3, 's'])
  })

  it('does not walk into a value that is frozen already', () => {
    const inner = { x: 1 }
    const outer = Object.freeze({ inner })
    deepFreeze(outer)
    expect(Object.isFrozen(inner)).toBe(false)
  })
})
