/**
 * The compiled codec: for each message plan, straight-line JavaScript (built once with
 * `new Function`, as protobufjs does) that encodes and decodes the common case several times
 * faster than walking the plan.
 *
 * It is only a fast path. Generated code checks everything the interpreting codec
 * (codec-encode.ts, codec-decode.ts) checks, but on any doubt it *bails* (throws `BAIL`) instead
 * of deciding: the caller then runs the interpreting codec on the same input, which gives the
 * result or the precise `InvalidArgumentError`. Rare shapes also bail on purpose — a message
 * field that occurs twice (merged), a second oneof member on the wire, a `__proto__` map key, an
 * own key whose value is `undefined`, sparse arrays — so the generated code stays small. Both
 * paths give byte-identical output and equal objects; the tests check this on random input.
 *
 * @internal
 */
import {
  BAIL,
  FastWriter,
  readBool,
  readBytes,
  readDouble,
  readEnum,
  readInt32,
  readInt64,
  readLen,
  readSint64,
  readString,
  readU32Strict,
  readUint32,
  readUint64,
  skipField,
} from './codec-fast-io.ts'
import { InternalError } from './errors.ts'
import type { EnumCodec, FieldPlan, MessagePlan, ValuePlan } from './codec-schema.ts'

/** Filled in by an encode when asked (api's `encodeObject`): whether the value survives a round trip unchanged. */
export interface EncodedShape {
  /**
   * True when decoding the bytes gives back a value deep-equal to the one encoded (key order
   * aside): every required field present, no empty array or record where the codec leaves the
   * field out, plain `Uint8Array`s, no `-0` integers, no keys set to `undefined`. False when that
   * is not so — or not known.
   */
  canonical: boolean
}

interface Compiled {
  /**
   * Encodes a value (filling in `shape` when given; `pooled`: see `FastWriter.finish`), or
   * returns undefined when the interpreting codec must handle it.
   */
  readonly encode: (value: unknown, shape?: EncodedShape, pooled?: boolean) => Uint8Array | undefined
  /** Decodes bytes, or returns undefined when the interpreting codec must handle them. */
  readonly decode: (bytes: Uint8Array) => Record<string, unknown> | undefined
}

const compiled = new WeakMap<MessagePlan, Compiled>()

/** The compiled codec of `plan` (generated on first use). */
export function fastCodec(plan: MessagePlan): Compiled {
  let c = compiled.get(plan)
  if (c === undefined) {
    c = compile(plan)
    compiled.set(plan, c)
  }
  return c
}

// One writer reused by every encode; an encode that starts while it is in use (a getter that
// encodes) gets a writer of its own.
let sharedWriter: FastWriter | undefined
let writerBusy = false
const MAX_KEPT_WRITER = 1 << 20

type Gen = (w: FastWriter, value: unknown) => void
type GenDecode = (r: { buf: Uint8Array; pos: number }, end: number) => Record<string, unknown>

function compile(root: MessagePlan): Compiled {
  const { source, enums } = generate(root)
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our own schema, never from input
  const factory = new Function('BAIL', 'IO', 'TW', 'FW', 'ZW', source) as (...args: unknown[]) => [Gen, GenDecode]
  const io = { readBool, readBytes, readDouble, readEnum, readInt32, readInt64, readLen, readSint64, readString, readU32Strict, readUint32, readUint64, skipField }
  const [enc, dec] = factory(
    BAIL,
    io,
    enums.map((e) => e.toWire),
    enums.map((e) => e.fromWire),
    enums.map((e) => e.fromWire.get(0)),
  )
  return {
    encode(value: unknown, shape?: EncodedShape, pooled = false): Uint8Array | undefined {
      const shared = !writerBusy
      const w = shared ? (sharedWriter ??= new FastWriter()) : new FastWriter(256)
      if (shared) writerBusy = true
      w.pos = 0
      w.canonical = true
      try {
        enc(w, value)
        if (shape !== undefined) shape.canonical = w.canonical
        return w.finish(pooled)
      } catch (err) {
        if (err === BAIL) return undefined
        throw err
      } finally {
        if (shared) {
          writerBusy = false
          // Do not keep a buffer grown by one huge message.
          if (w.buf.length > MAX_KEPT_WRITER) sharedWriter = undefined
        }
      }
    },
    decode(bytes: Uint8Array): Record<string, unknown> | undefined {
      try {
        return dec({ buf: bytes, pos: 0 }, bytes.length)
      } catch {
        // Anything unusual, malformed input included: the interpreting codec decides.
        return undefined
      }
    },
  }
}

// ------------------------------------------------------------------------------ generation

function generate(root: MessagePlan): { source: string; enums: EnumCodec[] } {
  const messages = new Map<MessagePlan, number>()
  const order: MessagePlan[] = []
  const visit = (p: MessagePlan): void => {
    if (messages.has(p)) return
    messages.set(p, order.length)
    order.push(p)
    for (const f of p.fields) if (f.value.kind === 'message') visit(f.value.plan)
  }
  visit(root)
  const enums: EnumCodec[] = []
  const enumIndex = new Map<EnumCodec, number>()
  const en = (c: EnumCodec): number => {
    let i = enumIndex.get(c)
    if (i === undefined) {
      i = enums.length
      enumIndex.set(c, i)
      enums.push(c)
    }
    return i
  }
  const msg = (p: MessagePlan): number => messages.get(p) as number
  const ctx: Ctx = { msg, en }
  const fns = order.map((p, i) => encoderOf(p, i, ctx) + decoderOf(p, i, ctx))
  const io = 'const { readBool, readBytes, readDouble, readEnum, readInt32, readInt64, readLen, readSint64, readString, readU32Strict, readUint32, readUint64, skipField } = IO;'
  const consts = enums.map((_, i) => `const TW${i} = TW[${i}], FW${i} = FW[${i}], ZW${i} = ZW[${i}];`).join('\n')
  return { source: `"use strict";\n${io}\n${consts}\n${fns.join('\n')}\nreturn [e0, d0];`, enums }
}

interface Ctx {
  msg(p: MessagePlan): number
  en(c: EnumCodec): number
}

// ---------------------------------------------------------------- encoders

function encoderOf(plan: MessagePlan, i: number, ctx: Ctx): string {
  const lines: string[] = [
    `function e${i}(w, o) {`,
    'if (typeof o !== "object" || o === null || Array.isArray(o) || o instanceof Uint8Array) throw BAIL;',
    'let n = 0;',
  ]
  for (const f of plan.fields) {
    const required = f.presence !== 'explicit' || f.requiredCollection
    lines.push(`{ const v = o.${f.name};`, `if (v === undefined) { ${required ? 'throw BAIL;' : ''} } else { n++;`, fieldBody(f, ctx), '} }')
  }
  for (const o of plan.oneofs) {
    const count = o.members.map((m) => `(o.${m} !== undefined ? 1 : 0)`).join(' + ')
    lines.push(`{ const c = ${count}; if (c > 1${o.required ? ' || c === 0' : ''}) throw BAIL; }`)
  }
  // Unknown own keys, own keys set to undefined, known fields found only on the prototype: bail.
  lines.push('if (n !== Object.keys(o).length) throw BAIL;', '}')
  return lines.join('\n') + '\n'
}

function fieldBody(f: FieldPlan, ctx: Ctx): string {
  const tag = `w.varint32(${f.tag});`
  if (f.label === 'single') {
    if (f.presence === 'implicit') return implicitBody(f.value, tag, ctx)
    return `${tag} ${writeValue(f.value, 'v', ctx)}`
  }
  if (f.label === 'repeated') {
    const each = `const x = v[i]; ${f.packed ? '' : tag} ${writeValue(f.value, 'x', ctx)}`
    const loop = `for (let i = 0; i < v.length; i++) { ${each} }`
    const body = f.packed ? `${tag} const s = w.fork(); ${loop} w.ldelim(s);` : loop
    // An empty collection decodes as absent (unless the field is a required collection).
    return `if (!Array.isArray(v)) throw BAIL; if (v.length !== 0) { ${body} }${f.requiredCollection ? '' : ' else w.canonical = false;'}`
  }
  const valueTag = (2 << 3) | f.wireType
  return [
    'if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) throw BAIL;',
    `const ks = Object.keys(v);${f.requiredCollection ? '' : ' if (ks.length === 0) w.canonical = false;'}`,
    `for (let i = 0; i < ks.length; i++) { const k = ks[i]; const x = v[k]; ${tag} const s = w.fork(); w.varint32(10); w.string(k); w.varint32(${valueTag}); ${writeValue(f.value, 'x', ctx)} w.ldelim(s); }`,
  ].join('\n')
}

/** A required scalar or enum: the zero value is left out (after the same type checks). */
function implicitBody(vp: ValuePlan, tag: string, ctx: Ctx): string {
  switch (vp.kind) {
    case 'message':
      throw new InternalError('codec compile: a message field cannot have implicit presence')
    case 'enum':
      return `{ const z = TW${ctx.en(vp.codec)}.get(v); if (z === undefined) throw BAIL; if (z !== 0) { ${tag} w.int32(z); } }`
    case 'scalar':
      break
  }
  const check = typeCheck(vp.scalar, 'v')
  switch (vp.scalar) {
    case 'string':
      return `${check} if (v !== "") { ${tag} w.string(v); }`
    case 'bytes':
      return `${check} ${plainBytes('v')} if (v.length !== 0) { ${tag} w.bytes(v); }`
    case 'bool':
      return `${check} if (v) { ${tag} w.varint32(1); }`
    case 'double':
      return `${check} if (v !== 0 || 1 / v < 0) { ${tag} w.double(v); }`
    case 'uint64':
      return `${check} if (v !== 0n) { ${tag} w.uint64(v); }`
    default:
      // -0 is left out like 0 and comes back as 0.
      return `${check} if (v !== 0) { ${tag} ${writeScalar(vp.scalar, 'v')} } else if (1 / v < 0) w.canonical = false;`
  }
}

/** A statement that bails unless `x` is a valid value of the scalar type. */
function typeCheck(scalar: Extract<ValuePlan, { kind: 'scalar' }>['scalar'], x: string): string {
  switch (scalar) {
    case 'string':
      return `if (typeof ${x} !== "string") throw BAIL;`
    case 'bytes':
      return `if (!(${x} instanceof Uint8Array)) throw BAIL;`
    case 'bool':
      return `if (typeof ${x} !== "boolean") throw BAIL;`
    case 'double':
      return `if (typeof ${x} !== "number") throw BAIL;`
    case 'int32':
      return `if (typeof ${x} !== "number" || (${x} | 0) !== ${x}) throw BAIL;`
    case 'uint32':
      return `if (typeof ${x} !== "number" || (${x} >>> 0) !== ${x}) throw BAIL;`
    case 'int64':
    case 'sint64':
      return `if (!Number.isSafeInteger(${x})) throw BAIL;`
    case 'uint64':
      return `if (typeof ${x} !== "bigint" || ${x} < 0n || ${x} > 18446744073709551615n) throw BAIL;`
  }
}

function writeScalar(scalar: Extract<ValuePlan, { kind: 'scalar' }>['scalar'], x: string): string {
  switch (scalar) {
    case 'string':
      return `w.string(${x});`
    case 'bytes':
      return `w.bytes(${x});`
    case 'bool':
      return `w.varint32(${x} ? 1 : 0);`
    case 'double':
      return `w.double(${x});`
    case 'int32':
      return `w.int32(${x});`
    case 'uint32':
      return `w.varint32(${x});`
    case 'int64':
      return `w.int64(${x});`
    case 'sint64':
      return `w.sint64(${x});`
    case 'uint64':
      return `w.uint64(${x});`
  }
}

function writeValue(vp: ValuePlan, x: string, ctx: Ctx): string {
  switch (vp.kind) {
    case 'message':
      return `{ const s = w.fork(); e${ctx.msg(vp.plan)}(w, ${x}); w.ldelim(s); }`
    case 'enum':
      return `{ const z = TW${ctx.en(vp.codec)}.get(${x}); if (z === undefined) throw BAIL; w.int32(z); }`
    case 'scalar':
      break
  }
  const check = typeCheck(vp.scalar, x)
  switch (vp.scalar) {
    case 'bytes':
      return `${check} ${plainBytes(x)} ${writeScalar(vp.scalar, x)}`
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'sint64':
      return `${check} if (${x} === 0 && 1 / ${x} < 0) w.canonical = false; ${writeScalar(vp.scalar, x)}`
    default:
      return `${check} ${writeScalar(vp.scalar, x)}`
  }
}

/** A Buffer or other Uint8Array subclass comes back as a plain Uint8Array. */
function plainBytes(x: string): string {
  return `if (Object.getPrototypeOf(${x}) !== Uint8Array.prototype) w.canonical = false;`
}

// ---------------------------------------------------------------- decoders

function decoderOf(plan: MessagePlan, i: number, ctx: Ctx): string {
  const cases: string[] = []
  for (const f of plan.fields) cases.push(fieldCases(f, ctx))
  const known = plan.fields.map((f) => `case ${f.id}:`).join(' ')
  const lines = [
    `function d${i}(r, end) {`,
    'const o = {};',
    'while (r.pos < end) {',
    'const t = readU32Strict(r, end);',
    'switch (t) {',
    ...cases,
    // A known field with an unexpected wire type, or field number 0: the interpreter reports it.
    `default: switch (t >>> 3) { case 0: ${known} throw BAIL; } skipField(r, t & 7, end);`,
    '}',
    '}',
    'if (r.pos !== end) throw BAIL;',
    ...finishLines(plan, ctx),
    'return o;',
    '}',
  ]
  return lines.join('\n') + '\n'
}

function fieldCases(f: FieldPlan, ctx: Ctx): string {
  const name = f.name
  if (f.label === 'map') {
    const valueTag = (2 << 3) | f.wireType
    const once = f.value.kind === 'message' ? 'if (x !== undefined) throw BAIL;' : ''
    return [
      `case ${(f.id << 3) | 2}: {`,
      'const s = readLen(r, end); let k = ""; let x;',
      'while (r.pos < s) {',
      'const u = readU32Strict(r, s);',
      `if (u === 10) k = readString(r, s); else if (u === ${valueTag}) { ${once} x = ${readValue(f.value, 's', ctx)}; }`,
      'else { const q = u >>> 3; if (q <= 2) throw BAIL; skipField(r, u & 7, s); }',
      '}',
      `if (x === undefined) x = ${zeroValue(f.value, ctx)};`,
      'if (k === "__proto__") throw BAIL;',
      `let m = o.${name}; if (m === undefined) { m = {}; o.${name} = m; }`,
      'm[k] = x; break; }',
    ].join('\n')
  }
  const unpacked = (f.id << 3) | f.wireType
  if (f.label === 'repeated') {
    const push = `const a = o.${name}; if (a === undefined) o.${name} = [x]; else a.push(x);`
    const single = `case ${unpacked}: { const x = ${readValue(f.value, 'end', ctx)}; ${push} break; }`
    if (f.wireType === 2) return single
    const packed = `case ${(f.id << 3) | 2}: { const s = readLen(r, end); let a = o.${name}; if (a === undefined) { a = []; o.${name} = a; } while (r.pos < s) a.push(${readValue(f.value, 's', ctx)}); break; }`
    return `${single}\n${packed}`
  }
  const guards: string[] = []
  if (f.oneof !== undefined) for (const m of f.oneof.members) if (m !== name) guards.push(`if (o.${m} !== undefined) throw BAIL;`)
  // A message field that occurs twice is merged by the interpreter.
  if (f.value.kind === 'message') guards.push(`if (o.${name} !== undefined) throw BAIL;`)
  return `case ${unpacked}: { ${guards.join(' ')} o.${name} = ${readValue(f.value, 'end', ctx)}; break; }`
}

function readValue(vp: ValuePlan, end: string, ctx: Ctx): string {
  switch (vp.kind) {
    case 'message':
      return `d${ctx.msg(vp.plan)}(r, readLen(r, ${end}))`
    case 'enum':
      return `readEnum(r, ${end}, FW${ctx.en(vp.codec)})`
    case 'scalar':
      break
  }
  switch (vp.scalar) {
    case 'string':
      return `readString(r, ${end})`
    case 'bytes':
      return `readBytes(r, ${end})`
    case 'bool':
      return `readBool(r, ${end})`
    case 'double':
      return `readDouble(r, ${end})`
    case 'int32':
      return `readInt32(r, ${end})`
    case 'uint32':
      return `readUint32(r, ${end})`
    case 'uint64':
      return `readUint64(r, ${end})`
    case 'int64':
      return `readInt64(r, ${end})`
    case 'sint64':
      return `readSint64(r, ${end})`
  }
}

/** The zero value of an absent value, as an expression; bails when it has none. */
function zeroValue(vp: ValuePlan, ctx: Ctx): string {
  switch (vp.kind) {
    case 'message':
      // An empty message: decoding zero bytes fills its zero values or bails on a required field.
      return `d${ctx.msg(vp.plan)}(r, r.pos)`
    case 'enum': {
      const k = ctx.en(vp.codec)
      return vp.codec.fromWire.has(0) ? `ZW${k}` : '(() => { throw BAIL })()'
    }
    case 'scalar':
      switch (vp.scalar) {
        case 'string':
          return '""'
        case 'bytes':
          return 'new Uint8Array(0)'
        case 'bool':
          return 'false'
        case 'uint64':
          return '0n'
        default:
          return '0'
      }
  }
}

/** Absent implicit fields get their zero value, required collections an empty one; required fields and oneofs must be there. */
function finishLines(plan: MessagePlan, ctx: Ctx): string[] {
  const lines: string[] = []
  for (const f of plan.fields) {
    const absent = `if (o.${f.name} === undefined)`
    if (f.requiredCollection) lines.push(`${absent} o.${f.name} = ${f.label === 'map' ? '{}' : '[]'};`)
    else if (f.presence === 'implicit') lines.push(`${absent} o.${f.name} = ${zeroValue(f.value, ctx)};`)
    else if (f.presence === 'required') lines.push(`${absent} throw BAIL;`)
  }
  for (const o of plan.oneofs) {
    if (o.required) lines.push(`if (${o.members.map((m) => `o.${m} === undefined`).join(' && ')}) throw BAIL;`)
  }
  return lines
}
