import { describe, expect, it } from 'vitest'
import { heapBytes, sharedBytes } from '../src/index.ts'

describe('byte allocators', () => {
  it('heapBytes: a zero-filled array over an ArrayBuffer of its own', () => {
    const b = heapBytes(1_000)
    expect(b).toBeInstanceOf(Uint8Array)
    expect(b.length).toBe(1_000)
    expect(b.buffer).toBeInstanceOf(ArrayBuffer)
    expect([b.byteOffset, b.buffer.byteLength]).toEqual([0, 1_000])
    expect(b.every((x) => x === 0)).toBe(true)
  })

  it('sharedBytes: a zero-filled array over a SharedArrayBuffer of its own, usable as any Uint8Array', () => {
    const b = sharedBytes(1_000)
    expect(b).toBeInstanceOf(Uint8Array)
    expect(b.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect([b.length, b.byteOffset, b.buffer.byteLength]).toEqual([1_000, 0, 1_000])
    expect(b.every((x) => x === 0)).toBe(true)
    b.set([104, 105], 10)
    expect(new TextDecoder().decode(b.subarray(10, 12))).toBe('hi')
    expect(Buffer.from(b.subarray(10, 12)).toString()).toBe('hi')
    expect(b.slice(10, 12)).toEqual(new Uint8Array([104, 105]))
    expect(sharedBytes(0).length).toBe(0)
  })

  it('sharedBytes: memory V8 does not count as external (what starts its full collections)', () => {
    const before = process.memoryUsage().external
    const held = Array.from({ length: 8 }, () => sharedBytes(8 * 2 ** 20))
    const after = process.memoryUsage().external
    expect(held.length).toBe(8)
    // 64 MiB held; as ArrayBuffers they would add all of it (a collection meanwhile only lowers the figure).
    expect(after - before).toBeLessThan(8 * 2 ** 20)
  })
})
