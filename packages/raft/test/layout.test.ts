/**
 * The layout of src/ (see the README's "Layout"): no import cycle between files, type imports
 * included, and each folder imports only the layers it may.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}

/** Each file's relative imports and re-exports (values and types), as paths relative to src/. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    const deps = new Set<string>()
    for (const m of text.matchAll(/^(?:import|export)\s[^'"]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms)) deps.add(relative(SRC, resolve(dirname(file), m[1] as string)))
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

describe('src layout', () => {
  const graph = importGraph()

  it('reads every file of every folder', () => {
    const folders = new Set([...graph.keys()].map((f) => (f.includes('/') ? f.slice(0, f.indexOf('/')) : '.')))
    expect([...folders].sort()).toEqual(['.', 'compliance', 'core', 'driver', 'generated', 'storage', 'transport'])
    expect(graph.get('core/raft.ts')).toContain('core/raft-leader.ts')
  })

  it('has no import cycle, type imports included', () => {
    expect(cycles(graph)).toEqual([])
  })

  it('finds a cycle when there is one (the check itself)', () => {
    const withCycle = new Map(graph)
    withCycle.set('core/raft-leader.ts', [...(graph.get('core/raft-leader.ts') ?? []), 'core/raft.ts'])
    expect(cycles(withCycle)).toEqual([['core/raft-leader.ts', 'core/raft.ts']])
  })

  it('keeps the core to itself: only errors.ts and the storage contract from outside core/', () => {
    const outside = [...graph].filter(([f]) => f.startsWith('core/')).flatMap(([f, deps]) => deps.filter((d) => !d.startsWith('core/')).map((d) => `${f} -> ${d}`))
    expect(outside.filter((e) => !e.endsWith('-> errors.ts') && !e.endsWith('-> storage/storage.ts'))).toEqual([])
  })

  it('imports the driver only from the entry points and the driver itself', () => {
    const users = [...graph].filter(([f, deps]) => !f.startsWith('driver/') && deps.some((d) => d.startsWith('driver/'))).map(([f]) => f)
    expect(users).toEqual(['index.ts'])
  })

  it('keeps storage and transport apart (neither imports the other)', () => {
    const crossing = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => (f.startsWith('transport/') && d.startsWith('storage/')) || (f.startsWith('storage/') && d.startsWith('transport/'))).map((d) => `${f} -> ${d}`),
    )
    expect(crossing).toEqual([])
  })
})
