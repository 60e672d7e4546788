/**
 * Parser of the small POSIX shell subset the fake runtime interprets (the busybox commands tests
 * use): words with single/double quotes and `$VAR`, `${VAR}`, `${VAR-default}`, `${VAR:-default}`,
 * `$?`, `$0`–`$9`; `;`, newlines, `&&`, `||`; `>&2`, `2>&1`, `>/dev/null`, `2>/dev/null`;
 * `while … do … done`, `until`, `if … then … [else …] fi`, `for x in …; do … done`; `# comments`.
 * Anything else is a syntax error (an `InvalidArgumentError` whose message starts with `syntax error`).
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** A piece of a word; `quoted` pieces are not field-split. */
export type WordPart =
  | { kind: 'lit'; text: string; quoted: boolean }
  | { kind: 'var'; name: string; fallback: Word | undefined; colon: boolean; quoted: boolean }

/** A shell word: parts concatenated after expansion. */
export type Word = readonly WordPart[]

/** Where a command's stdout or stderr goes. */
export interface Redirect {
  fd: 1 | 2
  to: 'stdout' | 'stderr' | 'null'
}

/** A parsed shell program. */
export type ShellNode =
  | { k: 'cmd'; words: readonly Word[]; redirects: readonly Redirect[] }
  | { k: 'and' | 'or'; left: ShellNode; right: ShellNode }
  | { k: 'seq'; items: readonly ShellNode[] }
  | { k: 'while' | 'until'; cond: ShellNode; body: ShellNode }
  | { k: 'if'; cond: ShellNode; then: ShellNode; otherwise: ShellNode | undefined }
  | { k: 'for'; name: string; items: readonly Word[]; body: ShellNode }

type Token = { t: 'word'; word: Word } | { t: 'op'; v: ';' | '\n' | '&&' | '||' } | { t: 'redir'; r: Redirect }

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y
const KEYWORDS = new Set(['while', 'until', 'do', 'done', 'if', 'then', 'else', 'elif', 'fi', 'for', 'in'])

function syntax(msg: string): Error {
  return new InvalidArgumentError('', `syntax error: ${msg}`)
}

/** Reads a `$…` expansion starting at `s[i] === '$'`; returns the part and the next index. */
function readDollar(s: string, i: number, quoted: boolean): [WordPart, number] {
  const c = s[i + 1]
  if (c === '{') {
    const close = s.indexOf('}', i + 2)
    if (close < 0) throw syntax('missing }')
    const inner = s.slice(i + 2, close)
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9?#])(:?-)?(.*)$/s.exec(inner)
    if (m === null) throw syntax(`bad substitution \${${inner}}`)
    const [, name = '', op, rest = ''] = m
    if (op === undefined && rest !== '') throw syntax(`bad substitution \${${inner}}`)
    const fallback = op === undefined ? undefined : tokenizeWord(rest, quoted)
    return [{ kind: 'var', name, fallback, colon: op === ':-', quoted }, close + 1]
  }
  if (c !== undefined && /[0-9?#]/.test(c)) return [{ kind: 'var', name: c, fallback: undefined, colon: false, quoted }, i + 2]
  NAME.lastIndex = i + 1
  const m = NAME.exec(s)
  if (m === null) return [{ kind: 'lit', text: '$', quoted }, i + 1]
  return [{ kind: 'var', name: m[0], fallback: undefined, colon: false, quoted }, i + 1 + m[0].length]
}

/** Parses a default-value word inside `${…}` (no further splitting). */
function tokenizeWord(s: string, quoted: boolean): Word {
  const parts: WordPart[] = []
  let i = 0
  let lit = ''
  while (i < s.length) {
    const ch = s[i] ?? ''
    if (ch === '$') {
      if (lit !== '') parts.push({ kind: 'lit', text: lit, quoted })
      lit = ''
      const [part, next] = readDollar(s, i, quoted)
      parts.push(part)
      i = next
    } else {
      lit += ch
      i++
    }
  }
  if (lit !== '') parts.push({ kind: 'lit', text: lit, quoted })
  return parts
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < src.length) {
    const ch = src[i] ?? ''
    if (ch === ' ' || ch === '\t') {
      i++
      continue
    }
    if (ch === '#') {
      while (i < src.length && src[i] !== '\n') i++
      continue
    }
    if (ch === '\n' || ch === ';') {
      tokens.push({ t: 'op', v: ch })
      i++
      continue
    }
    if (src.startsWith('&&', i) || src.startsWith('||', i)) {
      tokens.push({ t: 'op', v: src.startsWith('&&', i) ? '&&' : '||' })
      i += 2
      continue
    }
    if (ch === '|' || ch === '&' || ch === '<' || ch === '(' || ch === ')' || ch === '`') throw syntax(`unsupported ${JSON.stringify(ch)}`)
    const redir = /^([12]?)>(&[12]|\s*\/dev\/null)/.exec(src.slice(i, i + 20))
    if (redir !== null) {
      const fd = redir[1] === '2' ? 2 : 1
      const target = (redir[2] ?? '').trim()
      tokens.push({ t: 'redir', r: { fd, to: target === '&1' ? 'stdout' : target === '&2' ? 'stderr' : 'null' } })
      i += redir[0].length
      continue
    }
    if (ch === '>') throw syntax('only >&1, >&2 and >/dev/null redirections are supported')
    // A word: runs until unquoted whitespace or an operator.
    const parts: WordPart[] = []
    let lit = ''
    let litQuoted = false
    const flush = (): void => {
      if (lit !== '') parts.push({ kind: 'lit', text: lit, quoted: litQuoted })
      lit = ''
    }
    const addLit = (text: string, quoted: boolean): void => {
      if (quoted !== litQuoted) flush()
      litQuoted = quoted
      lit += text
    }
    while (i < src.length) {
      const c = src[i] ?? ''
      if (' \t\n;&|<>()`'.includes(c)) break
      if (c === "'") {
        const close = src.indexOf("'", i + 1)
        if (close < 0) throw syntax("unterminated '")
        flush()
        parts.push({ kind: 'lit', text: src.slice(i + 1, close), quoted: true })
        i = close + 1
      } else if (c === '"') {
        flush()
        parts.push({ kind: 'lit', text: '', quoted: true }) // "" is an (empty) field
        i++
        for (;;) {
          const d = src[i]
          if (d === undefined) throw syntax('unterminated "')
          if (d === '"') {
            i++
            break
          }
          if (d === '\\' && i + 1 < src.length && '"\\$`\n'.includes(src[i + 1] ?? '')) {
            addLit(src[i + 1] ?? '', true)
            i += 2
          } else if (d === '$') {
            flush()
            const [part, next] = readDollar(src, i, true)
            parts.push(part)
            i = next
          } else {
            addLit(d, true)
            i++
          }
        }
        flush()
      } else if (c === '\\') {
        addLit(src[i + 1] ?? '', true)
        i += 2
      } else if (c === '$') {
        flush()
        const [part, next] = readDollar(src, i, false)
        parts.push(part)
        i = next
      } else {
        addLit(c, false)
        i++
      }
    }
    flush()
    tokens.push({ t: 'word', word: parts })
  }
  return tokens
}

/** The keyword a token spells, if it is a plain unquoted word. */
function keywordOf(tok: Token | undefined): string | undefined {
  if (tok?.t !== 'word' || tok.word.length !== 1) return undefined
  const p = tok.word[0]
  return p?.kind === 'lit' && !p.quoted && KEYWORDS.has(p.text) ? p.text : undefined
}

class Parser {
  #pos = 0
  readonly tokens: Token[]
  constructor(tokens: Token[]) {
    this.tokens = tokens
  }

  parseProgram(): ShellNode {
    const node = this.list([])
    if (this.#pos < this.tokens.length) throw syntax(`unexpected ${keywordOf(this.tokens[this.#pos]) ?? 'token'}`)
    return node
  }

  #skipSeparators(): void {
    for (;;) {
      const tok = this.tokens[this.#pos]
      if (tok?.t === 'op' && (tok.v === ';' || tok.v === '\n')) this.#pos++
      else return
    }
  }

  #expectKeyword(kw: string): void {
    this.#skipSeparators()
    if (keywordOf(this.tokens[this.#pos]) !== kw) throw syntax(`expected ${kw}`)
    this.#pos++
  }

  /** A sequence of and-or lists, up to (not including) one of the `stop` keywords. */
  list(stop: readonly string[]): ShellNode {
    const items: ShellNode[] = []
    for (;;) {
      this.#skipSeparators()
      const tok = this.tokens[this.#pos]
      if (tok === undefined) break
      const kw = keywordOf(tok)
      if (kw !== undefined && stop.includes(kw)) break
      items.push(this.andOr())
    }
    return items.length === 1 && items[0] !== undefined ? items[0] : { k: 'seq', items }
  }

  andOr(): ShellNode {
    let left = this.command()
    for (;;) {
      const tok = this.tokens[this.#pos]
      if (tok?.t !== 'op' || (tok.v !== '&&' && tok.v !== '||')) return left
      this.#pos++
      while (this.tokens[this.#pos]?.t === 'op' && (this.tokens[this.#pos] as { v: string }).v === '\n') this.#pos++
      left = { k: tok.v === '&&' ? 'and' : 'or', left, right: this.command() }
    }
  }

  command(): ShellNode {
    const kw = keywordOf(this.tokens[this.#pos])
    if (kw === 'while' || kw === 'until') {
      this.#pos++
      const cond = this.list(['do'])
      this.#expectKeyword('do')
      const body = this.list(['done'])
      this.#expectKeyword('done')
      return { k: kw, cond, body }
    }
    if (kw === 'if') {
      this.#pos++
      return this.#ifRest()
    }
    if (kw === 'for') {
      this.#pos++
      const nameTok = this.tokens[this.#pos++]
      const p = nameTok?.t === 'word' && nameTok.word.length === 1 ? nameTok.word[0] : undefined
      if (p?.kind !== 'lit' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.text)) throw syntax('bad for variable')
      if (keywordOf(this.tokens[this.#pos]) !== 'in') throw syntax('expected in')
      this.#pos++
      const items: Word[] = []
      for (;;) {
        const tok = this.tokens[this.#pos]
        if (tok?.t !== 'word') break
        items.push(tok.word)
        this.#pos++
      }
      this.#expectKeyword('do')
      const body = this.list(['done'])
      this.#expectKeyword('done')
      return { k: 'for', name: p.text, items, body }
    }
    if (kw !== undefined) throw syntax(`unexpected ${kw}`)
    const words: Word[] = []
    const redirects: Redirect[] = []
    for (;;) {
      const tok = this.tokens[this.#pos]
      if (tok?.t === 'word') words.push(tok.word)
      else if (tok?.t === 'redir') redirects.push(tok.r)
      else break
      this.#pos++
    }
    if (words.length === 0) throw syntax('empty command')
    return { k: 'cmd', words, redirects }
  }

  #ifRest(): ShellNode {
    const cond = this.list(['then'])
    this.#expectKeyword('then')
    const then = this.list(['else', 'elif', 'fi'])
    this.#skipSeparators()
    const kw = keywordOf(this.tokens[this.#pos])
    this.#pos++
    if (kw === 'fi') return { k: 'if', cond, then, otherwise: undefined }
    if (kw === 'elif') return { k: 'if', cond, then, otherwise: this.#ifRest() }
    if (kw !== 'else') throw syntax('expected fi')
    const otherwise = this.list(['fi'])
    this.#expectKeyword('fi')
    return { k: 'if', cond, then, otherwise }
  }
}

/** Parses a shell script; throws an `Error` starting with `syntax error` for anything unsupported. */
export function parseShell(src: string): ShellNode {
  return new Parser(tokenize(src)).parseProgram()
}
