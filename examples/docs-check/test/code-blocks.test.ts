/**
 * Every TypeScript code block of every README and `docs/` page compiles against the packages'
 * sources (one strict program, the repository's compiler options), and every block whose info
 * string is `ts run` also runs to completion.
 *
 * A block is a module of its own: it imports what it uses, as a reader copying it would.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')
const blocksDir = join(here, '..', '.blocks')

interface Block {
  /** Markdown file, relative to the repository root. */
  readonly doc: string
  /** 1-based line of the block's first code line in the markdown file. */
  readonly line: number
  readonly code: string
  readonly run: boolean
  readonly file: string
}

function markdownFiles(): string[] {
  const out = ['README.md']
  for (const group of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, group))) {
      const readme = join(group, name, 'README.md')
      if (statSync(join(root, group, name)).isDirectory() && existsFile(join(root, readme))) out.push(readme)
    }
  }
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir))) {
      const rel = join(dir, name)
      if (rel === join('docs', 'api')) continue
      if (statSync(join(root, rel)).isDirectory()) walk(rel)
      else if (name.endsWith('.md')) out.push(rel)
    }
  }
  walk('docs')
  return out
}

function existsFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Fenced blocks whose info string's first word is `ts` or `typescript`. */
function extractBlocks(doc: string, text: string): Omit<Block, 'file'>[] {
  const blocks: Omit<Block, 'file'>[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(\S*)\s*(.*)$/.exec(lines[i] ?? '')
    if (open === null) continue
    const [, indent = '', fence = '', lang = '', rest = ''] = open
    const start = i + 1
    let end = start
    while (end < lines.length && !(lines[end] ?? '').trimStart().startsWith(fence)) end++
    if (lang === 'ts' || lang === 'typescript') {
      const body = lines.slice(start, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      blocks.push({ doc, line: start + 1, code: body.join('\n'), run: rest.split(/\s+/).includes('run') })
    }
    i = end
  }
  return blocks
}

function collect(): Block[] {
  rmSync(blocksDir, { recursive: true, force: true })
  mkdirSync(blocksDir, { recursive: true })
  const blocks: Block[] = []
  for (const doc of markdownFiles()) {
    const found = extractBlocks(doc, readFileSync(join(root, doc), 'utf8'))
    found.forEach((b, n) => {
      const file = join(blocksDir, `${doc.replace(/[/.]/g, '_')}_${n + 1}.ts`)
      // A block without imports or exports is still a module (top-level await, no globals).
      const isModule = /^\s*(import|export)\s/m.test(b.code)
      writeFileSync(file, isModule ? `${b.code}\n` : `${b.code}\nexport {}\n`)
      blocks.push({ ...b, file })
    })
  }
  return blocks
}

function typecheck(files: readonly string[]): Map<string, string[]> {
  const configPath = join(root, 'tsconfig.base.json')
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true, declaration: false, sourceMap: false })
  const byFile = new Map<string, string[]>()
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file?.fileName ?? '(global)'
    const pos = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
    const list = byFile.get(file) ?? []
    list.push(`${pos === undefined ? '' : `block line ${pos.line + 1}: `}TS${d.code}: ${text}`)
    byFile.set(file, list)
  }
  return byFile
}

const blocks = collect()
const diagnostics = typecheck(blocks.map((b) => b.file))

describe('README and docs code blocks', () => {
  it('finds the blocks of every package README', () => {
    const docs = new Set(blocks.map((b) => b.doc))
    for (const name of readdirSync(join(root, 'packages'))) {
      if (existsFile(join(root, 'packages', name, 'README.md'))) expect(docs, `packages/${name}/README.md has no ts block`).toContain(join('packages', name, 'README.md'))
    }
  })

  for (const b of blocks) {
    it(`${b.doc}:${b.line} compiles`, () => {
      expect(diagnostics.get(b.file) ?? [], `${b.doc}:${b.line} (written to ${relative(root, b.file)})`).toEqual([])
    })
    if (b.run) {
      it(`${b.doc}:${b.line} runs`, () => {
        // Throws (failing the test) with the block's output on a non-zero exit.
        execFileSync(process.execPath, ['--conditions=@swarmkit-ts/source', '--import', 'tsx', b.file], {
          cwd: blocksDir,
          stdio: 'pipe',
          timeout: 90_000,
        })
      })
    }
  }
})
