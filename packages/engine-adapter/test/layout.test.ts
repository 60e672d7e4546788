/**
 * The layout of src/ (see the README's "Layout"): no import cycle between files, type imports
 * included; the runtime folders (docker/, containerd/, process/, fake/) do not import each other,
 * sharing code only through shared/; shared/ and compliance/ import no runtime folder.
 */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { folderOf, importCycles, importGraph } from '../../../scripts/test-support/source-layout.ts'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))
const RUNTIME_FOLDERS = ['containerd', 'docker', 'fake', 'process']

/** Every import from a file in `from` folders to a file in another folder outside `allowed`, as `file -> dep`. */
function crossings(graph: Map<string, string[]>, from: readonly string[], allowed: readonly string[]): string[] {
  return [...graph].flatMap(([f, deps]) => {
    const folder = folderOf(f)
    if (!from.includes(folder)) return []
    return deps.filter((d) => folderOf(d) !== folder && !allowed.includes(folderOf(d))).map((d) => `${f} -> ${d}`)
  })
}

describe('src layout', () => {
  const graph = importGraph(SRC)

  it('reads every file of every folder, and every import resolves to a file of src/', () => {
    const folders = new Set([...graph.keys()].map(folderOf))
    expect([...folders].sort()).toEqual(['.', 'compliance', 'containerd', 'docker', 'fake', 'generated', 'process', 'shared'])
    expect(graph.get('docker/docker-runtime.ts')).toContain('shared/host-files.ts')
    const dangling = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${f} -> ${d}`))
    expect(dangling).toEqual([])
  })

  it('has no import cycle, type imports included', () => {
    expect(importCycles(graph)).toEqual([])
  })

  it('finds a cycle when there is one (the check itself)', () => {
    const withCycle = new Map(graph)
    withCycle.set('shared/event-journal.ts', [...(graph.get('shared/event-journal.ts') ?? []), 'fake/fake-runtime.ts'])
    expect(importCycles(withCycle)).toEqual([['fake/fake-runtime.ts', 'shared/event-journal.ts']])
  })

  it('keeps the runtime folders apart: each imports only itself, shared/, generated/ and the top-level contract and errors', () => {
    expect(crossings(graph, RUNTIME_FOLDERS, ['.', 'shared', 'generated'])).toEqual([])
    const topLevel = [...graph].filter(([f]) => RUNTIME_FOLDERS.includes(folderOf(f))).flatMap(([, deps]) => deps.filter((d) => folderOf(d) === '.'))
    expect([...new Set(topLevel)].sort()).toEqual(['errors.ts', 'runtime.ts'])
  })

  it('finds a runtime folder importing another (the check itself)', () => {
    const crossed = new Map(graph)
    crossed.set('docker/docker-logs.ts', [...(graph.get('docker/docker-logs.ts') ?? []), 'containerd/containerd-logs.ts'])
    expect(crossings(crossed, RUNTIME_FOLDERS, ['.', 'shared', 'generated'])).toEqual(['docker/docker-logs.ts -> containerd/containerd-logs.ts'])
  })

  it('keeps shared/ and compliance/ free of any runtime: they import only the top-level contract and errors', () => {
    expect(crossings(graph, ['shared', 'compliance'], ['.'])).toEqual([])
    const topLevel = [...graph].filter(([f]) => ['shared', 'compliance'].includes(folderOf(f))).flatMap(([, deps]) => deps.filter((d) => folderOf(d) === '.'))
    expect(topLevel.every((d) => d === 'runtime.ts' || d === 'errors.ts')).toBe(true)
  })

  it('imports the runtime folders only from the package entry point', () => {
    const users = [...graph].filter(([f, deps]) => folderOf(f) === '.' && deps.some((d) => RUNTIME_FOLDERS.includes(folderOf(d)))).map(([f]) => f)
    expect(users).toEqual(['index.ts'])
  })
})
