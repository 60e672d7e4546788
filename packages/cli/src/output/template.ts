/**
 * Go-template `--format`, as Docker's (`--format '{{.ID}}\t{{.Spec.Name}}'`, `table {{.ID}}\t…`,
 * `{{json .Spec}}`, `{{index .Spec.Labels "k"}}`): a small, safe subset of Go's text/template —
 * parsed once, evaluated over plain JSON data, nothing executed but the functions listed here.
 *
 * Supported: text (`\t` and `\n` written as escapes are a tab and a newline, as Docker's), actions
 * `{{ pipeline }}` with `{{-`/`-}}` trimming, field chains `.A.B` (a name matches a key exactly,
 * else case-insensitively, else a key of the object's `annotations` — Go's embedded-struct
 * promotion, so `.Spec.Name` reads `spec.annotations.name`), `.`, string/number/boolean literals,
 * parentheses, pipes `a | f`, `{{if}}…{{else}}…{{end}}`, `{{range}}…{{else}}…{{end}}`, and the
 * functions `json index len join split upper lower title truncate`. A missing key prints
 * `<no value>` (Go's map behaviour).
 *
 * @module
 */
import { evaluate, TemplateError, type Node } from './template-eval.ts'

export { TemplateError } from './template-eval.ts'

/** The functions a template may call (anything else fails to parse). */
export const TEMPLATE_FUNCTIONS = ['json', 'index', 'len', 'join', 'split', 'upper', 'lower', 'title', 'truncate'] as const

/** A parsed template: {@link Template.execute} renders it for one value. */
export interface Template {
  /** `table …`: render the lines as a table with a header (cells split at tabs). */
  readonly table: boolean
  /** The template text after `table `. */
  readonly source: string
  /** Renders the template with `data` as the dot. */
  execute(data: unknown): string
  /** The header row of a table template: each action replaced by its column name (`{{.ID}}` → `ID`, `{{.Spec.Name}}` → `NAME`). */
  header(names?: Readonly<Record<string, string>>): string
}

interface Token {
  readonly kind: 'text' | 'action'
  readonly text: string
  readonly at: number
}

/** Splits into text and actions, applying `{{-` / `-}}` trimming. */
function lex(src: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  let trimNext = false
  while (i < src.length) {
    const open = src.indexOf('{{', i)
    let text = src.slice(i, open === -1 ? src.length : open)
    if (trimNext) text = text.replace(/^\s+/, '')
    trimNext = false
    if (open === -1) {
      if (text !== '') tokens.push({ kind: 'text', text, at: i })
      break
    }
    let bodyStart = open + 2
    if (src[bodyStart] === '-' && /\s/.test(src[bodyStart + 1] ?? '')) {
      text = text.replace(/\s+$/, '')
      bodyStart += 1
    }
    if (text !== '') tokens.push({ kind: 'text', text, at: i })
    const close = findClose(src, bodyStart)
    if (close === -1) throw new TemplateError(`unclosed action at ${open + 1}`)
    let body = src.slice(bodyStart, close)
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1)
      trimNext = true
    }
    tokens.push({ kind: 'action', text: body.trim(), at: open + 1 })
    i = close + 2
  }
  return tokens
}

/** The index of the `}}` closing an action, skipping quoted strings; -1 when none. */
function findClose(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const ch = src[i]
    if (ch === '"' || ch === '`') {
      const end = ch === '`' ? src.indexOf('`', i + 1) : closingQuote(src, i + 1)
      if (end === -1) return -1
      i = end
    } else if (ch === '}' && src[i + 1] === '}') return i
  }
  return -1
}

function closingQuote(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    if (src[i] === '\\') i++
    else if (src[i] === '"') return i
  }
  return -1
}

/** One word of an action: a field chain, a literal, a function name, a pipe or a parenthesis. */
type Word =
  | { readonly t: 'field'; readonly path: readonly string[] }
  | { readonly t: 'lit'; readonly value: string | number | boolean }
  | { readonly t: 'ident'; readonly name: string }
  | { readonly t: 'pipe' | 'open' | 'close' }

function words(action: string, at: number): Word[] {
  const out: Word[] = []
  const re = /\s*(?:(\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?)|("(?:[^"\\]|\\.)*")|(`[^`]*`)|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\|)|(\()|(\)))/y
  let i = 0
  while (i < action.length) {
    if (/^\s*$/.test(action.slice(i))) break
    re.lastIndex = i
    const m = re.exec(action)
    if (m === null) throw new TemplateError(`unexpected ${JSON.stringify(action.slice(i).trim().slice(0, 10))} in action at ${at}`)
    i = re.lastIndex
    if (m[1] !== undefined) out.push({ t: 'field', path: m[1] === '.' ? [] : m[1].slice(1).split('.') })
    else if (m[2] !== undefined) out.push({ t: 'lit', value: JSON.parse(m[2]) as string })
    else if (m[3] !== undefined) out.push({ t: 'lit', value: m[3].slice(1, -1) })
    else if (m[4] !== undefined) out.push({ t: 'lit', value: Number(m[4]) })
    else if (m[5] === 'true' || m[5] === 'false') out.push({ t: 'lit', value: m[5] === 'true' })
    else if (m[5] !== undefined) out.push({ t: 'ident', name: m[5] })
    else if (m[6] !== undefined) out.push({ t: 'pipe' })
    else if (m[7] !== undefined) out.push({ t: 'open' })
    else out.push({ t: 'close' })
  }
  return out
}

/** Parses a pipeline from `ws` (`a b | f c`), up to a closing parenthesis or the end. */
function pipeline(ws: Word[], pos: { i: number }, at: number): Node & { t: 'pipe' } {
  const commands: (Node & { t: 'call' | 'operand' })[] = []
  for (;;) {
    const args: Node[] = []
    let fn: string | undefined
    while (pos.i < ws.length) {
      const w = ws[pos.i]
      if (w === undefined || w.t === 'pipe' || w.t === 'close') break
      pos.i++
      if (w.t === 'ident') {
        if (args.length > 0 || fn !== undefined) throw new TemplateError(`function ${JSON.stringify(w.name)} must come first in a command at ${at}`)
        if (!(TEMPLATE_FUNCTIONS as readonly string[]).includes(w.name)) throw new TemplateError(`function ${JSON.stringify(w.name)} not defined`)
        fn = w.name
      } else if (w.t === 'open') {
        args.push(pipeline(ws, pos, at))
        if (ws[pos.i]?.t !== 'close') throw new TemplateError(`unclosed parenthesis in action at ${at}`)
        pos.i++
      } else if (w.t === 'field') args.push({ t: 'field', path: w.path })
      else if (w.t === 'lit') args.push({ t: 'lit', value: w.value })
    }
    if (fn !== undefined) commands.push({ t: 'call', fn, args })
    else if (args.length === 1 && args[0] !== undefined) commands.push({ t: 'operand', value: args[0] })
    else if (args.length === 0) throw new TemplateError(`missing value in action at ${at}`)
    else throw new TemplateError(`${args.length} values without a function in action at ${at}`)
    if (ws[pos.i]?.t !== 'pipe') break
    pos.i++
  }
  return { t: 'pipe', commands }
}

function parsePipeline(action: string, at: number): Node & { t: 'pipe' } {
  const ws = words(action, at)
  const pos = { i: 0 }
  const p = pipeline(ws, pos, at)
  if (pos.i < ws.length) throw new TemplateError(`unexpected ")" in action at ${at}`)
  return p
}

/** Parses the token list into a tree: `if`/`range` blocks up to their `end`. */
function parseBlock(tokens: Token[], pos: { i: number }, inside: string | undefined): { body: Node[]; stop: 'end' | 'else' | 'eof' } {
  const body: Node[] = []
  while (pos.i < tokens.length) {
    const tok = tokens[pos.i++]
    if (tok === undefined) break
    if (tok.kind === 'text') {
      body.push({ t: 'text', text: tok.text })
      continue
    }
    const [keyword = '', ...rest] = tok.text.split(/\s+/)
    if (keyword === 'end' || keyword === 'else') {
      if (inside === undefined) throw new TemplateError(`unexpected {{${keyword}}} at ${tok.at}`)
      if (rest.length > 0) throw new TemplateError(`{{${tok.text}}} is not supported at ${tok.at}`)
      return { body, stop: keyword }
    }
    if (keyword === 'if' || keyword === 'range') {
      const cond = parsePipeline(rest.join(' '), tok.at)
      const then = parseBlock(tokens, pos, keyword)
      const otherwise = then.stop === 'else' ? parseBlock(tokens, pos, keyword) : { body: [], stop: then.stop }
      if (otherwise.stop !== 'end') throw new TemplateError(`unclosed {{${keyword}}} at ${tok.at}`)
      body.push({ t: keyword, cond, then: then.body, otherwise: otherwise.body })
      continue
    }
    if (['with', 'define', 'template', 'block', 'break', 'continue'].includes(keyword) || tok.text.includes('$') || tok.text.includes(':=')) {
      throw new TemplateError(`{{${tok.text}}} is not supported at ${tok.at}`)
    }
    if (tok.text === '') throw new TemplateError(`missing value in action at ${tok.at}`)
    body.push(parsePipeline(tok.text, tok.at))
  }
  return { body, stop: 'eof' }
}

/** Docker's header for an action of a table template: a known column name, else the last field upper-cased. */
function headerOf(node: Node, names: Readonly<Record<string, string>>): string {
  if (node.t !== 'pipe') return ''
  const first = node.commands[0]
  const value = first?.t === 'operand' ? first.value : first?.t === 'call' ? first.args[0] : undefined
  if (value?.t !== 'field') return first?.t === 'call' ? first.fn.toUpperCase() : ''
  const key = value.path.join('.')
  const known = names[key] ?? Object.entries(names).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1]
  if (known !== undefined) return known
  return (value.path.at(-1) ?? '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()
}

/** Parses a `--format` value that is neither `table` nor `json` (`TemplateError` naming the problem). */
export function parseTemplate(format: string): Template {
  const table = /^table\s/.test(format)
  const source = (table ? format.replace(/^table\s+/, '') : format).replace(/\\t/g, '\t').replace(/\\n/g, '\n')
  const tokens = lex(source)
  const pos = { i: 0 }
  const { body } = parseBlock(tokens, pos, undefined)
  return {
    table,
    source,
    execute: (data) => evaluate(body, data),
    header: (names = {}) => body.map((n) => (n.t === 'text' ? n.text : headerOf(n, names))).join(''),
  }
}
