/**
 * Reads protobuf bytes into plain TypeScript objects by walking a {@link MessagePlan}: absent
 * optional fields stay absent, implicit fields get their zero value back, required messages,
 * enums and oneofs must be present, int64 values must be safe integers and uint64 values become
 * bigints. Bytes are copied into plain `Uint8Array`s. Every failure is an `InvalidArgumentError`.
 *
 * @internal
 */
import { TextDecoder } from 'node:util'
import protobuf from 'protobufjs'
import { fastCodec } from './codec-compile.ts'
import { hi, lo, scanVarint64 } from './codec-fast-io.ts'
import { fail, keySeg, type Path } from './codec-path.ts'
import type { FieldPlan, MessagePlan, ValuePlan } from './codec-schema.ts'
import { InvalidArgumentError } from './errors.ts'

type Obj = Record<string, unknown>

const TWO_32 = 4294967296

let utf8: TextDecoder | undefined

/** Decodes `bytes` as message `plan` into a plain TypeScript object. */
export function decodeMessage(plan: MessagePlan, bytes: unknown): Obj {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('', 'expected protobuf bytes as a Uint8Array')
  // The compiled fast path handles the common case; anything it is unsure about comes here.
  const fast = fastCodec(plan).decode(bytes)
  return fast ?? decodeMessageInterpreted(plan, bytes)
}

/** {@link decodeMessage} by walking the plan (no compiled fast path): the reference, and the error reporter. */
export function decodeMessageInterpreted(plan: MessagePlan, bytes: Uint8Array): Obj {
  const r = new protobuf.Reader(bytes)
  try {
    return readMessage(r, r.len, plan, undefined, undefined)
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err
    throw new InvalidArgumentError('', `malformed protobuf data: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

function readMessage(r: protobuf.Reader, end: number, plan: MessagePlan, path: Path | undefined, target: Obj | undefined): Obj {
  const out: Obj = target ?? {}
  while (r.pos < end) {
    const tag = readVarint32(r, end, path)
    const id = tag >>> 3
    const wt = tag & 7
    if (id === 0) fail(path, '', 'malformed protobuf data: field number 0')
    const f = plan.byId.get(id)
    if (f === undefined) {
      r.skipType(wt)
      continue
    }
    const seg = f.seg
    if (f.label === 'map') {
      if (wt !== 2) fail(path, seg, `wrong wire type ${wt}`)
      readMapEntry(r, end, f, out, { up: path, seg })
    } else if (f.label === 'repeated') {
      const at: Path = { up: path, seg }
      const arr = (out[f.name] ??= []) as unknown[]
      if (wt === 2 && f.wireType !== 2) {
        const stop = readLength(r, end, at)
        while (r.pos < stop) arr.push(readValue(r, stop, f.value, at, `[${arr.length}]`, undefined))
        if (r.pos !== stop) fail(at, '', 'malformed protobuf data: packed field overruns its length')
      } else {
        if (wt !== f.wireType) fail(path, seg, `wrong wire type ${wt}`)
        arr.push(readValue(r, end, f.value, at, `[${arr.length}]`, undefined))
      }
    } else {
      if (wt !== f.wireType) fail(path, seg, `wrong wire type ${wt}`)
      if (f.oneof !== undefined) for (const m of f.oneof.members) if (m !== f.name) delete out[m]
      // A repeated occurrence of a message field merges into the first (protobuf semantics).
      const prior = f.value.kind === 'message' ? (out[f.name] as Obj | undefined) : undefined
      out[f.name] = readValue(r, end, f.value, path, seg, prior)
    }
  }
  if (r.pos !== end) fail(path, '', 'malformed protobuf data: a field overruns its message')
  finish(out, plan, path)
  return out
}

/** Restores the zero values of absent implicit fields and checks required fields and oneofs. */
/** Per message: the fields that need something when absent (others stay absent), computed once. */
const absentRules = new WeakMap<MessagePlan, readonly FieldPlan[]>()
function rulesOf(plan: MessagePlan): readonly FieldPlan[] {
  let rules = absentRules.get(plan)
  if (rules === undefined) {
    rules = plan.fields.filter((f) => f.requiredCollection || f.presence === 'implicit' || f.presence === 'required')
    absentRules.set(plan, rules)
  }
  return rules
}

function finish(out: Obj, plan: MessagePlan, path: Path | undefined): void {
  for (const f of rulesOf(plan)) {
    if (out[f.name] !== undefined) continue
    if (f.requiredCollection) out[f.name] = f.label === 'map' ? {} : []
    else if (f.presence === 'implicit') out[f.name] = zeroValue(f.value, path, f.seg)
    else if (f.presence === 'required') fail(path, f.seg, 'is required')
  }
  for (const o of plan.oneofs) {
    if (!o.required) continue
    let set = false
    for (const m of o.members) if (out[m] !== undefined) set = true
    if (!set) fail(path, '', `one of ${o.members.join(', ')} is required`)
  }
}

function zeroValue(vp: ValuePlan, path: Path | undefined, seg: string): unknown {
  switch (vp.kind) {
    case 'message':
      return finishEmpty(vp.plan, { up: path, seg })
    case 'enum': {
      const v = vp.codec.fromWire.get(0)
      if (v === undefined) fail(path, seg, 'is required')
      return v
    }
    case 'scalar':
      switch (vp.scalar) {
        case 'string':
          return ''
        case 'bytes':
          return new Uint8Array(0)
        case 'bool':
          return false
        case 'uint64':
          return 0n
        default:
          return 0
      }
  }
}

function finishEmpty(plan: MessagePlan, path: Path): Obj {
  const out: Obj = {}
  finish(out, plan, path)
  return out
}

function readMapEntry(r: protobuf.Reader, end: number, f: FieldPlan, out: Obj, at: Path): void {
  const stop = readLength(r, end, at)
  let key = ''
  let value: unknown
  while (r.pos < stop) {
    const tag = readVarint32(r, stop, at)
    const wt = tag & 7
    if (tag >>> 3 === 1) {
      if (wt !== 2) fail(at, keySeg(key), `wrong wire type ${wt} for a map key`)
      key = readValue(r, stop, { kind: 'scalar', scalar: 'string' }, at, '[?]', undefined) as string
    } else if (tag >>> 3 === 2) {
      if (wt !== f.wireType) fail(at, keySeg(key), `wrong wire type ${wt}`)
      value = readValue(r, stop, f.value, at, keySeg(key), value as Obj | undefined)
    } else {
      r.skipType(wt)
    }
  }
  if (r.pos !== stop) fail(at, keySeg(key), 'malformed protobuf data: a map entry overruns its length')
  value ??= zeroValue(f.value, at, keySeg(key))
  const map = (out[f.name] ??= {}) as Obj
  // A key such as "__proto__" must become an own property, not change the prototype.
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true })
}

function readValue(r: protobuf.Reader, end: number, vp: ValuePlan, path: Path | undefined, seg: string, prior: Obj | undefined): unknown {
  switch (vp.kind) {
    case 'message': {
      const at: Path = { up: path, seg }
      const stop = readLength(r, end, at)
      return readMessage(r, stop, vp.plan, at, prior)
    }
    case 'enum': {
      readVarint64(r, end, path, seg)
      const n = lo | 0
      const v = vp.codec.fromWire.get(n)
      if (v === undefined) fail(path, seg, `unknown ${vp.codec.name} value ${n}`)
      return v
    }
    case 'scalar':
      break
  }
  switch (vp.scalar) {
    case 'string': {
      const stop = readLength(r, end, path, seg)
      const ascii = asciiOrUndefined(r.buf, r.pos, stop)
      if (ascii !== undefined) {
        r.pos = stop
        return ascii
      }
      const view = r.buf.subarray(r.pos, stop)
      r.pos = stop
      utf8 ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
      try {
        return utf8.decode(view)
      } catch {
        return fail(path, seg, 'string is not valid UTF-8')
      }
    }
    case 'bytes': {
      const stop = readLength(r, end, path, seg)
      // Copy into a plain Uint8Array (never a Buffer, never a view of the input).
      const out = new Uint8Array(r.buf.subarray(r.pos, stop))
      r.pos = stop
      return out
    }
    case 'double': {
      if (r.pos + 8 > end) fail(path, seg, 'malformed protobuf data: truncated double')
      return r.double()
    }
    case 'bool':
      readVarint64(r, end, path, seg)
      return (lo | hi) !== 0
    case 'int32':
      readVarint64(r, end, path, seg)
      return lo | 0
    case 'uint32':
      readVarint64(r, end, path, seg)
      return lo >>> 0
    case 'uint64':
      readVarint64(r, end, path, seg)
      return (BigInt(hi) << 32n) | BigInt(lo)
    case 'int64':
      readVarint64(r, end, path, seg)
      if (hi <= 0x1fffff) return hi * TWO_32 + lo // below 2^53: exact as a number
      return toSafeNumber(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)), path, seg)
    case 'sint64': {
      readVarint64(r, end, path, seg)
      const u = (BigInt(hi) << 32n) | BigInt(lo)
      return toSafeNumber((u >> 1n) ^ -(u & 1n), path, seg)
    }
  }
}

function toSafeNumber(v: bigint, path: Path | undefined, seg: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    fail(path, seg, `value ${v.toString()} is outside the safe integer range`)
  }
  return Number(v)
}

function readLength(r: protobuf.Reader, end: number, at: Path | undefined, seg = ''): number {
  readVarint64(r, end, at, seg)
  if (hi !== 0) fail(at, seg, 'malformed protobuf data: tag or length over 32 bits')
  const stop = r.pos + lo
  if (stop > end) fail(at, seg, 'malformed protobuf data: length runs past the end')
  return stop
}

/** Decodes short ASCII strings without TextDecoder (the common case for ids and names). */
function asciiOrUndefined(buf: Uint8Array, start: number, stop: number): string | undefined {
  if (stop - start > 64) return undefined
  // Codes joined once, not `+=` per character (which leaves a rope of string nodes behind).
  const codes = new Array<number>(stop - start)
  for (let i = start; i < stop; i++) {
    const c = buf[i] as number
    if (c >= 0x80) return undefined
    codes[i - start] = c
  }
  return String.fromCharCode.apply(null, codes)
}

function readVarint32(r: protobuf.Reader, end: number, path: Path | undefined): number {
  readVarint64(r, end, path, '')
  if (hi !== 0) fail(path, '', 'malformed protobuf data: tag or length over 32 bits')
  return lo
}

/** Reads a varint of up to 10 bytes into `lo`/`hi` (codec-fast-io.ts), never past `end`. */
function readVarint64(r: protobuf.Reader, end: number, path: Path | undefined, seg: string): void {
  const pos = scanVarint64(r.buf, r.pos, end)
  if (pos === -1) fail(path, seg, 'malformed protobuf data: truncated varint')
  if (pos === -2) fail(path, seg, 'malformed protobuf data: varint longer than 10 bytes')
  r.pos = pos
}
