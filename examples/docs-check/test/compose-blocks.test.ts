/**
 * Every compose file shown in `docs/` (a ```yaml block whose first line is a comment naming a
 * compose file, e.g. `# docker-compose.yml`) loads, converts and validates as `swarmkit stack
 * deploy` would before writing anything — so the docs never show a file the CLI refuses.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { composeStack, validateStack } from '@swarmkit-ts/cli'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const docs = join(here, '..', '..', '..', 'docs')

interface ComposeBlock {
  readonly doc: string
  readonly line: number
  readonly file: string
  readonly text: string
}

function composeBlocks(): ComposeBlock[] {
  const out: ComposeBlock[] = []
  for (const name of readdirSync(docs).filter((n) => n.endsWith('.md'))) {
    const lines = readFileSync(join(docs, name), 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      if (!/^```ya?ml\s*$/.test(lines[i] ?? '')) continue
      const start = i + 1
      let end = start
      while (end < lines.length && !(lines[end] ?? '').startsWith('```')) end++
      const file = /^#\s*(\S*compose\S*\.ya?ml)\s*$/.exec(lines[start] ?? '')?.[1]
      if (file !== undefined) out.push({ doc: `docs/${name}`, line: start + 1, file, text: lines.slice(start, end).join('\n') })
      i = end
    }
  }
  return out
}

const blocks = composeBlocks()

describe('compose files in the docs', () => {
  it('finds the example of docs/compose.md', () => {
    expect(blocks.map((b) => b.doc)).toContain('docs/compose.md')
  })

  for (const b of blocks) {
    it(`${b.doc}:${b.line} (${b.file}) converts and validates without a warning`, () => {
      const warnings: string[] = []
      const stack = composeStack([{ file: b.file, text: b.text }], {
        namespace: 'docs',
        env: () => undefined,
        readFile: () => new TextEncoder().encode('a secret\n'),
        warn: (message) => warnings.push(message),
      })
      validateStack(stack)
      expect(warnings).toEqual([])
      expect(stack.services.length).toBeGreaterThan(0)
    })
  }
})
