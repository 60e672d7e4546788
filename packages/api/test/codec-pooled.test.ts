import { describe, expect, it } from 'vitest'
import { decodeDispatcherMessage, decodeObject, encodeDispatcherMessage, encodeDispatcherMessagePooled, encodeObject, encodeObjectPooled } from '../src/index.ts'
import { TaskState, type Task } from '../src/index.ts'
import { MINIMAL } from './codec-fixtures.ts'

const task = (i: number): Task => ({
  ...MINIMAL.task,
  id: `t${String(i).padStart(24, '0')}`,
  slot: i,
  spec: { container: { image: 'busybox', command: ['sh', '-c', `echo ${'x'.repeat(i % 300)}`] } },
})

describe('pooled encodings', () => {
  it('are the bytes of the plain encoding, and stay so while thousands more are made', () => {
    const kept: { bytes: Uint8Array; plain: Uint8Array }[] = []
    for (let i = 0; i < 2_000; i++) {
      const t = task(i)
      kept.push({ bytes: encodeObjectPooled('task', t), plain: encodeObject('task', t) })
    }
    for (const { bytes, plain } of kept) expect(bytes).toEqual(plain)
    expect(decodeObject('task', kept[1_234]?.bytes ?? new Uint8Array())).toEqual(decodeObject('task', kept[1_234]?.plain ?? new Uint8Array()))
  })

  it('share a slab (distinct regions) when small, and get a buffer of their own when large; plain encodings always own theirs', () => {
    const a = encodeObjectPooled('task', task(1))
    const b = encodeObjectPooled('task', task(2))
    if (a.buffer === b.buffer) expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.byteLength)
    expect(a.buffer.byteLength).toBeGreaterThan(a.byteLength)
    const big: Task = { ...task(3), spec: { container: { image: 'busybox', env: Array.from({ length: 200 }, (_, i) => `VAR_${i}=${'v'.repeat(20)}`) } } }
    const large = encodeObjectPooled('task', big)
    expect(large.byteLength).toBeGreaterThan(2048)
    expect(large.byteOffset).toBe(0)
    expect(large.buffer.byteLength).toBe(large.byteLength)
    const plain = encodeObject('task', task(1))
    expect(plain.byteOffset).toBe(0)
    expect(plain.buffer.byteLength).toBe(plain.byteLength)
  })

  it('dispatcher messages round-trip through a pooled encoding', () => {
    const msg = { sessionId: 'sess-1', updates: [{ taskId: 't1', status: { state: TaskState.RUNNING, timestamp: 5, message: 'started' } }] }
    const pooled = encodeDispatcherMessagePooled('UpdateTaskStatusRequest', msg)
    expect(pooled).toEqual(encodeDispatcherMessage('UpdateTaskStatusRequest', msg))
    expect(decodeDispatcherMessage('UpdateTaskStatusRequest', pooled)).toEqual(decodeDispatcherMessage('UpdateTaskStatusRequest', encodeDispatcherMessage('UpdateTaskStatusRequest', msg)))
  })
})
