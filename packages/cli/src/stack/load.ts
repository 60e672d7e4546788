/**
 * Reading one compose file: YAML (the `yaml` library, with node positions) into a located tree,
 * applying `<<:` merge keys and aliases, and interpolating every string value.
 *
 * @module
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'
import type { Document, Node as YamlNode } from 'yaml'
import { InterpolationError, interpolate, type LookupEnv } from './interpolate.ts'
import { ComposeError, child, fail, item, type LMap, type LNode, type Loc } from './tree.ts'

/** A compose file's text and the name it is reported under. */
export interface ComposeSource {
  /** The file name as the user gave it (`docker-compose.yml`). */
  readonly file: string
  /** Its content. */
  readonly text: string
}

/** Options of {@link loadComposeFile}. */
export interface LoadOptions {
  /** The variables interpolation reads. */
  readonly env: LookupEnv
  /** Told each warning (an unset variable). */
  readonly warn?: (message: string) => void
}

/** Parses and interpolates one compose file into a located mapping (`ComposeError` on bad YAML). */
export function loadComposeFile(source: ComposeSource, options: LoadOptions): LMap {
  const lines = new LineCounter()
  const doc = parseDocument(source.text, { lineCounter: lines, merge: true, uniqueKeys: true, prettyErrors: false })
  const first = doc.errors[0]
  if (first !== undefined) {
    const line = lines.linePos(first.pos[0]).line
    throw new ComposeError({ file: source.file, line }, '', first.message.split('\n')[0] ?? 'invalid YAML')
  }
  const warned = new Set<string>()
  const walker = new Walker(source.file, doc, lines, options.env, (name) => {
    if (warned.has(name)) return
    warned.add(name)
    options.warn?.(`The ${name} variable is not set. Defaulting to a blank string.`)
  })
  const root = doc.contents
  if (root === null) fail({ file: source.file, line: 1 }, '', 'top-level object must be a mapping')
  const tree = walker.node(root, '')
  if (tree.kind !== 'map') fail(tree, '', 'top-level object must be a mapping')
  return tree
}

class Walker {
  readonly file: string
  readonly doc: Document
  readonly lines: LineCounter
  readonly env: LookupEnv
  readonly unset: (name: string) => void
  constructor(file: string, doc: Document, lines: LineCounter, env: LookupEnv, unset: (name: string) => void) {
    this.file = file
    this.doc = doc
    this.lines = lines
    this.env = env
    this.unset = unset
  }

  loc(node: YamlNode): Loc {
    const offset = node.range?.[0] ?? 0
    return { file: this.file, line: this.lines.linePos(offset).line }
  }

  node(n: unknown, path: string): LNode {
    if (isAlias(n)) {
      const target = n.resolve(this.doc)
      if (target === undefined) fail(this.loc(n), path, `unknown alias *${n.source}`)
      return this.node(target, path)
    }
    if (isScalar(n)) {
      const loc = this.loc(n)
      const v = n.value
      if (typeof v === 'string') {
        try {
          return { kind: 'scalar', value: interpolate(v, this.env, this.unset), loc }
        } catch (err) {
          if (err instanceof InterpolationError) throw new ComposeError(loc, path, err.message)
          throw err
        }
      }
      // Compose files are YAML 1.1 for docker: `mode: 0440` is octal there.
      if (typeof v === 'number' && typeof n.source === 'string' && /^0[0-7]+$/.test(n.source)) return { kind: 'scalar', value: parseInt(n.source, 8), loc }
      if (v === null || typeof v === 'number' || typeof v === 'boolean') return { kind: 'scalar', value: v, loc }
      if (typeof v === 'bigint') return { kind: 'scalar', value: Number(v), loc }
      return fail(loc, path, 'unsupported YAML value')
    }
    if (isSeq(n)) return { kind: 'seq', items: n.items.map((x, i) => this.node(x, item(path, i))), loc: this.loc(n) }
    if (isMap(n)) return this.map(n.items, this.loc(n), path)
    return fail({ file: this.file, line: 1 }, path, 'unsupported YAML node')
  }

  map(pairs: readonly { key: unknown; value: unknown }[], loc: Loc, path: string): LMap {
    const entries = new Map<string, LNode>()
    const keyLocs = new Map<string, Loc>()
    const merges: LMap[] = []
    for (const pair of pairs) {
      const key = pair.key
      if (!isScalar(key)) fail(loc, path, 'mapping keys must be scalars')
      const keyLoc = this.loc(key)
      if (key.source === '<<' || key.value === '<<' || typeof key.value === 'symbol') {
        merges.push(...this.mergeSources(pair.value, keyLoc, path))
        continue
      }
      const name = String(key.value)
      const value = pair.value === null ? { kind: 'scalar' as const, value: null, loc: keyLoc } : this.node(pair.value, child(path, name))
      // A collection is reported at its key's line (`web:`), where a reader looks for it.
      entries.set(name, value.kind === 'scalar' ? value : { ...value, loc: keyLoc })
      keyLocs.set(name, keyLoc)
    }
    // Explicit keys win over merged ones; an earlier merge source wins over a later one.
    for (const source of merges) {
      for (const [k, v] of source.entries) {
        if (entries.has(k)) continue
        entries.set(k, v)
        keyLocs.set(k, source.keyLocs.get(k) ?? source.loc)
      }
    }
    return { kind: 'map', entries, keyLocs, loc }
  }

  mergeSources(value: unknown, loc: Loc, path: string): LMap[] {
    const list = isSeq(value) ? value.items : [value]
    return list.map((v) => {
      const node = this.node(v, path)
      if (node.kind !== 'map') fail(loc, child(path, '<<'), 'a merge key must refer to a mapping or a list of mappings')
      return node
    })
  }
}
