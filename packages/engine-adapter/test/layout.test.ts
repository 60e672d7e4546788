/**
 * The layout of src/ (see the README's "Layout"): no import cycle between files, type imports
 * included; the runtime folders (docker/, containerd/, process/, fake/) do not import each other,
 * sharing code only through shared/; shared/ and compliance/ import no runtime folder.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))
const RUNTIME_FOLDERS = ['containerd', 'docker', 'fake', 'process']

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}

/** Each file's relative imports, re-exports and dynamic imports, as paths relative to src/. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    const deps = new Set<string>()
    for (const m of text.matchAll(/(?:^(?:import|export)\s[^'"]*?\bfrom\s+|\bimport\(\s*)'(\.{1,2}\/[^']+)'/gms)) deps.add(relative(SRC, resolve(dirname(file), m[1] as string)))
    graph.set(relative(SRC, file), [...deps].sort())
  }
  return graph
}

/** The strongly connected components of more than one file (or a file importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string
    do {
      w = stack.pop() as string
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort())
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v)
  return found
}

/** The folder of a path relative to src/ ('.' for the top level). */
function folderOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.indexOf('/')) : '.'
}

/** Every import from a file in `from` folders to a file in another folder outside `allowed`, as `file -> dep`. */
function crossings(graph: Map<string, string[]>, from: readonly string[], allowed: readonly string[]): string[] {
  return [...graph].flatMap(([f, deps]) => {
    const folder = folderOf(f)
    if (!from.includes(folder)) return []
    return deps.filter((d) => folderOf(d) !== folder && !allowed.includes(folderOf(d))).map((d) => `${f} -> ${d}`)
  })
}

describe('src layout', () => {
  const graph = importGraph()

  it('reads every file of every folder, and every import resolves to a file of src/', () => {
    const folders = new Set([...graph.keys()].map(folderOf))
    expect([...folders].sort()).toEqual(['.', 'compliance', 'containerd', 'docker', 'fake', 'generated', 'process', 'shared'])
    expect(graph.get('docker/docker-runtime.ts')).toContain('shared/host-files.ts')
    const dangling = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${f} -> ${d}`))
    expect(dangling).toEqual([])
  })

  it('has no import cycle, type imports included', () => {
    expect(cycles(graph)).toEqual([])
  })

  it('finds a cycle when there is one (the check itself)', () => {
    const withCycle = new Map(graph)
    withCycle.set('shared/event-journal.ts', [...(graph.get('shared/event-journal.ts') ?? []), 'fake/fake-runtime.ts'])
    expect(cycles(withCycle)).toEqual([['fake/fake-runtime.ts', 'shared/event-journal.ts']])
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
