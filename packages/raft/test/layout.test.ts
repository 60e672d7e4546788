/**
 * The layout of src/ (see the README's "Layout"): no import cycle between files, type imports
 * included, and each folder imports only the layers it may.
 */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { folderOf, importCycles, importGraph } from '../../../scripts/test-support/source-layout.ts'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

describe('src layout', () => {
  const graph = importGraph(SRC)

  it('reads every file of every folder', () => {
    const folders = new Set([...graph.keys()].map(folderOf))
    expect([...folders].sort()).toEqual(['.', 'compliance', 'core', 'driver', 'generated', 'storage', 'transport', 'wire'])
    expect(graph.get('core/raft.ts')).toContain('core/raft-leader.ts')
  })

  it('has no import cycle, type imports included', () => {
    expect(importCycles(graph)).toEqual([])
  })

  it('finds a cycle when there is one (the check itself)', () => {
    const withCycle = new Map(graph)
    withCycle.set('core/raft-leader.ts', [...(graph.get('core/raft-leader.ts') ?? []), 'core/raft.ts'])
    expect(importCycles(withCycle)).toEqual([['core/raft-leader.ts', 'core/raft.ts']])
  })

  it('keeps the core to itself: only errors.ts and the storage contract from outside core/', () => {
    const outside = [...graph].filter(([f]) => f.startsWith('core/')).flatMap(([f, deps]) => deps.filter((d) => !d.startsWith('core/')).map((d) => `${f} -> ${d}`))
    expect(outside.filter((e) => !e.endsWith('-> errors.ts') && !e.endsWith('-> storage/storage.ts'))).toEqual([])
  })

  it('imports the driver only from the entry points and the driver itself', () => {
    const users = [...graph].filter(([f, deps]) => !f.startsWith('driver/') && deps.some((d) => d.startsWith('driver/'))).map(([f]) => f)
    expect(users).toEqual(['index.ts'])
  })

  it('keeps the wire primitives below storage and transport: wire/ imports only the core types', () => {
    const outside = [...graph].filter(([f]) => f.startsWith('wire/')).flatMap(([f, deps]) => deps.filter((d) => d !== 'core/types.ts').map((d) => `${f} -> ${d}`))
    expect(outside).toEqual([])
  })

  it('keeps storage and transport apart (neither imports the other)', () => {
    const crossing = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => (f.startsWith('transport/') && d.startsWith('storage/')) || (f.startsWith('storage/') && d.startsWith('transport/'))).map((d) => `${f} -> ${d}`),
    )
    expect(crossing).toEqual([])
  })
})
