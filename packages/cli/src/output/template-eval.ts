/**
 * The evaluator of `--format` templates (parsed by template.ts): walks the tree over plain JSON
 * data. Field lookup, Go's printing of values (`map[k:v]`, `[a b]`, `<no value>`), Go's truth,
 * and the few functions Docker adds (`json`, `join`, `split`, `upper`, `lower`, `title`,
 * `truncate`) besides Go's `index` and `len`. Nothing else can run.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** A bad `--format` template (parse or evaluation): one line naming the problem; exit code 1. */
export class TemplateError extends InvalidArgumentError {
  constructor(message: string) {
    super('--format', `template: ${message}`)
  }
}

/** A node of a parsed template. */
export type Node =
  | { readonly t: 'text'; readonly text: string }
  | { readonly t: 'field'; readonly path: readonly string[] }
  | { readonly t: 'lit'; readonly value: string | number | boolean }
  | { readonly t: 'pipe'; readonly commands: readonly (Node & { t: 'call' | 'operand' })[] }
  | { readonly t: 'call'; readonly fn: string; readonly args: readonly Node[] }
  | { readonly t: 'operand'; readonly value: Node }
  | { readonly t: 'if' | 'range'; readonly cond: Node; readonly then: readonly Node[]; readonly otherwise: readonly Node[] }

/**
 * The key under which {@link templateData} hides a listing's columns (`.Name`, `.Replicas`,
 * Docker's field names): a symbol, so `{{json .}}` and map printing show only the object.
 */
const COLUMNS: unique symbol = Symbol('columns')

/** `object` as `--format json` prints it (bigints as strings, bytes as base64), with `columns` readable as fields. */
export function templateData(object: unknown, columns: Readonly<Record<string, unknown>> = {}): unknown {
  const plain: unknown = JSON.parse(JSON.stringify(object, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)) ?? 'null')
  if (typeof plain === 'object' && plain !== null && !Array.isArray(plain)) Object.defineProperty(plain, COLUMNS, { value: columns, enumerable: false })
  return plain
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil'
  if (Array.isArray(v)) return 'slice'
  if (isObject(v)) return 'map'
  return typeof v === 'number' ? 'number' : typeof v
}

/** `.name` of `v`: the exact key, else a key equal ignoring case, else the same in `v.annotations` (Go's embedding). */
function field(v: unknown, name: string): unknown {
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) throw new TemplateError(`can't evaluate field ${name} in type ${typeName(v)}`)
  const columns = (v as { [COLUMNS]?: Readonly<Record<string, unknown>> })[COLUMNS]
  if (columns !== undefined && Object.hasOwn(columns, name)) return columns[name]
  if (Object.hasOwn(v, name)) return v[name]
  const lower = name.toLowerCase()
  const key = Object.keys(v).find((k) => k.toLowerCase() === lower)
  if (key !== undefined) return v[key]
  const embedded = v['annotations']
  return isObject(embedded) ? field(embedded, name) : undefined
}

/** A value printed as Go prints it: `<no value>` for a missing key, `map[a:1 b:2]`, `[x y]`. */
export function printValue(v: unknown): string {
  if (v === undefined) return '<no value>'
  if (v === null) return '<nil>'
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`
  if (isObject(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${printValue(v[k])}`)
      .join(' ')}]`
  }
  if (typeof v === 'string') return v
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : (JSON.stringify(v) ?? '')
}

/** Go's truth: false, 0, nil, and empty strings, lists and maps are false. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false
  if (Array.isArray(v)) return v.length > 0
  if (isObject(v)) return Object.keys(v).length > 0
  return true
}

function str(fn: string, v: unknown): string {
  if (typeof v !== 'string') throw new TemplateError(`${fn}: expected a string, got ${typeName(v)}`)
  return v
}

function arity(fn: string, args: readonly unknown[], n: number, atLeast = false): void {
  if (atLeast ? args.length < n : args.length !== n) throw new TemplateError(`wrong number of args for ${fn}: want ${atLeast ? 'at least ' : ''}${n} got ${args.length}`)
}

function index(target: unknown, keys: readonly unknown[]): unknown {
  let v = target
  for (const k of keys) {
    if (Array.isArray(v)) {
      if (typeof k !== 'number' || !Number.isInteger(k)) throw new TemplateError(`index: a list needs an integer index, got ${printValue(k)}`)
      if (k < 0 || k >= v.length) throw new TemplateError(`index: index out of range: ${k}`)
      v = v[k]
    } else if (isObject(v)) v = v[String(k)]
    else if (v === undefined || v === null) return undefined
    else throw new TemplateError(`index: can't index item of type ${typeName(v)}`)
  }
  return v
}

function call(fn: string, args: readonly unknown[]): unknown {
  switch (fn) {
    case 'json':
      arity(fn, args, 1)
      return JSON.stringify(args[0] ?? null)
    case 'index':
      arity(fn, args, 1, true)
      return index(args[0], args.slice(1))
    case 'len': {
      arity(fn, args, 1)
      const v = args[0]
      if (typeof v === 'string' || Array.isArray(v)) return v.length
      if (isObject(v)) return Object.keys(v).length
      throw new TemplateError(`len of type ${typeName(v)}`)
    }
    case 'join': {
      arity(fn, args, 2)
      const list = args[0] === undefined || args[0] === null ? [] : args[0]
      if (!Array.isArray(list)) throw new TemplateError(`join: expected a list, got ${typeName(list)}`)
      return list.map(printValue).join(str(fn, args[1]))
    }
    case 'split':
      arity(fn, args, 2)
      return str(fn, args[0]).split(str(fn, args[1]))
    case 'upper':
      arity(fn, args, 1)
      return str(fn, args[0]).toUpperCase()
    case 'lower':
      arity(fn, args, 1)
      return str(fn, args[0]).toLowerCase()
    case 'title':
      arity(fn, args, 1)
      return str(fn, args[0]).replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_m, pre: string, c: string) => `${pre}${c.toUpperCase()}`)
    case 'truncate': {
      arity(fn, args, 2)
      const n = args[1]
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new TemplateError('truncate: the length must be a non-negative integer')
      return [...str(fn, args[0])].slice(0, n).join('')
    }
    default:
      throw new TemplateError(`function ${JSON.stringify(fn)} not defined`)
  }
}

/** The value of `node` with `dot` as `.` (and `piped`, the previous command's value, as the last argument). */
function value(node: Node, dot: unknown, piped?: { v: unknown }): unknown {
  switch (node.t) {
    case 'field':
      return node.path.reduce<unknown>((v, name) => field(v, name), dot)
    case 'lit':
      return node.value
    case 'operand':
      if (piped !== undefined) throw new TemplateError('a value cannot take a piped argument')
      return value(node.value, dot)
    case 'call':
      return call(node.fn, [...node.args.map((a) => value(a, dot)), ...(piped === undefined ? [] : [piped.v])])
    case 'pipe': {
      let carried: { v: unknown } | undefined
      for (const c of node.commands) carried = { v: value(c, dot, carried) }
      return carried?.v
    }
    case 'text':
    case 'if':
    case 'range':
      throw new TemplateError(`{{${node.t}}} is not a value`)
  }
}

/** Renders `nodes` with `dot` as `.`. */
export function evaluate(nodes: readonly Node[], dot: unknown): string {
  let out = ''
  for (const node of nodes) {
    switch (node.t) {
      case 'text':
        out += node.text
        break
      case 'if':
        out += evaluate(truthy(value(node.cond, dot)) ? node.then : node.otherwise, dot)
        break
      case 'range': {
        const v = value(node.cond, dot)
        const items = Array.isArray(v) ? v : isObject(v) ? Object.keys(v).sort().map((k) => v[k]) : v === undefined || v === null ? [] : undefined
        if (items === undefined) throw new TemplateError(`range can't iterate over ${printValue(v)}`)
        out += items.length === 0 ? evaluate(node.otherwise, dot) : items.map((item) => evaluate(node.then, item)).join('')
        break
      }
      default:
        out += printValue(value(node, dot))
    }
  }
  return out
}
