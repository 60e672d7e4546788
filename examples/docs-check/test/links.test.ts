/**
 * Every relative link of the docs (`docs/*.md`, the root README, every package and example
 * README) points to a file or folder that exists, and a `#fragment` into a markdown file names
 * one of its headings (GitHub's anchors).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')

function markdownFiles(): string[] {
  const out = ['README.md']
  for (const group of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, group))) {
      if (existsSync(join(root, group, name, 'README.md'))) out.push(join(group, name, 'README.md'))
    }
  }
  for (const name of readdirSync(join(root, 'docs'))) if (name.endsWith('.md')) out.push(join('docs', name))
  return out
}

/** The text outside fenced code blocks and code spans (links there are examples, not links). */
function prose(text: string): string {
  return text.replace(/^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?\n\1\2[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '')
}

/** GitHub's anchors of a markdown file's headings (`## Foo (bar)` → `foo-bar`; repeats get `-1`, `-2`). */
function anchors(text: string): Set<string> {
  const out = new Set<string>()
  const seen = new Map<string, number>()
  const withoutCode = text.replace(/^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?\n\1\2[^\n]*$/gm, '')
  for (const m of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (m[1] ?? '')
      .toLowerCase()
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    out.add(n === 0 ? slug : `${slug}-${n}`)
  }
  return out
}

interface Link {
  readonly doc: string
  readonly target: string
}

function links(): Link[] {
  const out: Link[] = []
  for (const doc of markdownFiles()) {
    for (const m of prose(readFileSync(join(root, doc), 'utf8')).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1] ?? ''
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto:
      out.push({ doc, target })
    }
  }
  return out
}

/** Why `link` is broken, or undefined. */
function broken(link: Link): string | undefined {
  const [path = '', fragment] = link.target.split('#')
  const file = path === '' ? join(root, link.doc) : normalize(join(root, dirname(link.doc), decodeURIComponent(path)))
  if (relative(root, file).startsWith('..')) return 'points outside the repository'
  if (!existsSync(file)) return 'no such file'
  if (fragment === undefined || fragment === '') return undefined
  if (!statSync(file).isFile() || !file.endsWith('.md')) return undefined
  return anchors(readFileSync(file, 'utf8')).has(fragment) ? undefined : `no heading #${fragment} in ${relative(root, file)}`
}

describe('links of the docs and READMEs', () => {
  it('computes GitHub anchors', () => {
    expect([...anchors('# `Cluster` in an application\n## Manager nodes (`ManagerNode`, `NodeServer`)\n## A\n## A\n```sh\n# not a heading\n```\n')]).toEqual([
      'cluster-in-an-application',
      'manager-nodes-managernode-nodeserver',
      'a',
      'a-1',
    ])
  })

  it('every relative link resolves', () => {
    const all = links()
    expect(all).toContainEqual({ doc: join('docs', 'README.md'), target: 'getting-started.md' })
    expect(all.flatMap((l) => {
      const why = broken(l)
      return why === undefined ? [] : [`${l.doc}: (${l.target}) ${why}`]
    })).toEqual([])
  })
})
