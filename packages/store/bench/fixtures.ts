/**
 * Deterministic objects for the store benchmarks.
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Service, Task } from '@swarmkit-ts/api'
import type { ChangeSet, MemoryStore, StoreAction } from '../src/index.ts'

/** A valid, deterministic id for counter `n` in namespace `ns` (one base36 letter). */
export function benchId(ns: string, n: number): string {
  return ns + n.toString(36).padStart(24, '0')
}

const meta = { version: { index: 0n }, createdAt: 0, updatedAt: 0 }

/** A service like an orchestrator would create. */
export function benchService(n: number): Service {
  return {
    id: benchId('s', n),
    meta,
    spec: {
      annotations: { name: `svc-${n}`, labels: { tier: n % 2 === 0 ? 'web' : 'batch' } },
      task: { container: { image: 'registry.example/app:1.2.3', env: ['MODE=prod'] }, networks: [{ target: benchId('n', n % 10) }] },
      mode: { replicated: { replicas: 100 } },
    },
  }
}

/** A running task of service `s`, in slot `slot`, on one of 1,000 nodes. */
export function benchTask(n: number, s: number, slot: number): Task {
  return {
    id: benchId('t', n),
    meta,
    spec: { container: { image: 'registry.example/app:1.2.3', env: ['MODE=prod'] }, networks: [{ target: benchId('n', s % 10) }] },
    serviceId: benchId('s', s),
    slot,
    nodeId: benchId('m', n % 1000),
    annotations: { name: '' },
    serviceAnnotations: { name: `svc-${s}` },
    status: { timestamp: 0, state: TaskState.RUNNING, message: 'started' },
    desiredState: TaskState.RUNNING,
  }
}

/** Loads `services` services of `perService` tasks each straight through `applyChangeSet` (200 actions per change set). */
export function loadTasks(store: MemoryStore, services: number, perService: number): void {
  let pending: StoreAction[][] = []
  const flush = (): void => {
    if (pending.length > 0) store.applyChangeSet({ transactions: pending } satisfies ChangeSet, store.version + 1n)
    pending = []
  }
  let n = 0
  for (let s = 0; s < services; s++) {
    pending.push([{ action: 'create', kind: 'service', object: benchService(s) }])
    for (let slot = 1; slot <= perService; slot++) {
      pending.push([{ action: 'create', kind: 'task', object: benchTask(n++, s, slot) }])
      if (pending.length >= 200) flush()
    }
  }
  flush()
}

/** The object every transaction updates one of: a running task. */
export function runningTask(n: number): Omit<Task, 'meta'> {
  const id = `task${String(n).padStart(21, '0')}`
  return {
    id,
    spec: { container: { image: 'busybox:latest', command: ['sleep', '3600'] } },
    serviceId: 'service000000000000000001',
    slot: n + 1,
    nodeId: 'node00000000000000000001a',
    annotations: { name: `web.${n + 1}.${id}` },
    serviceAnnotations: { name: 'web' },
    status: { timestamp: 0, state: 512, message: 'started' },
    desiredState: 512,
  } as unknown as Omit<Task, 'meta'>
}
