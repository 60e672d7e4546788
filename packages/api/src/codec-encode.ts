/**
 * Writes a TypeScript value as protobuf by walking its {@link MessagePlan} with a protobufjs
 * `Writer`. Every value is checked against its field (type, range, enum table, well-formed
 * strings, unknown keys, oneofs, required fields) and rejected with an `InvalidArgumentError`
 * naming the field path; nothing is rounded or dropped silently.
 *
 * @internal
 */
import Long from 'long'
import protobuf from 'protobufjs'
import { fastCodec, type EncodedShape } from './codec-compile.ts'
import { fail, keySeg, type Path } from './codec-path.ts'
import type { MessagePlan, ValuePlan } from './codec-schema.ts'

type Obj = Record<string, unknown>

const MAX_UINT64 = (1n << 64n) - 1n
const TWO_32 = 4294967296
/** String.prototype.isWellFormed (ES2024, in every Node ≥ 20; not yet in our ES2023 lib typings). */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed()

/**
 * Encodes `value` as message `plan`; `path` prefixes error paths. `shape.canonical` is set to
 * whether decoding gives back a deep-equal value (false when unsure). `pooled`: the bytes may be
 * a view into a shared slab (see `FastWriter.finish`).
 */
export function encodeMessage(plan: MessagePlan, value: unknown, path?: Path, shape?: EncodedShape, pooled = false): Uint8Array {
  // The compiled fast path handles the common case; anything it is unsure about comes here.
  const fast = fastCodec(plan).encode(value, shape, pooled)
  if (fast !== undefined) return fast
  // Values the fast path hands over (e.g. keys set to undefined) are not known to be canonical.
  if (shape !== undefined) shape.canonical = false
  return encodeMessageInterpreted(plan, value, path)
}

/** {@link encodeMessage} by walking the plan (no compiled fast path): the reference, and the error reporter. */
export function encodeMessageInterpreted(plan: MessagePlan, value: unknown, path?: Path): Uint8Array {
  const w = new protobuf.Writer()
  writeMessage(w, plan, value, path)
  // finish() may return a view of a shared pool: hand out a copy of its own.
  return w.finish().slice()
}

function asObject(value: unknown, path: Path | undefined, seg: string, what: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) fail(path, seg, `expected ${what}`)
  return value as Obj
}

function writeMessage(w: protobuf.Writer, plan: MessagePlan, value: unknown, path: Path | undefined): void {
  const obj = asObject(value, path, '', `a ${plan.name} object`)
  for (const key of Object.keys(obj)) {
    if (!plan.byName.has(key) && obj[key] !== undefined) fail(path, `.${key}`, `is not a field of ${plan.name}`)
  }
  for (const o of plan.oneofs) {
    let count = 0
    for (const m of o.members) if (obj[m] !== undefined) count++
    if (count === 1) continue
    const set = o.members.filter((m) => obj[m] !== undefined)
    if (set.length > 1) fail(path, '', `only one of ${o.members.join(', ')} may be set, got ${set.join(', ')}`)
    if (set.length === 0 && o.required) fail(path, '', `one of ${o.members.join(', ')} is required`)
  }
  for (const f of plan.fields) {
    const v = obj[f.name]
    if (v === undefined) {
      if (f.presence !== 'explicit' || f.requiredCollection) fail(path, f.seg, 'is required')
      continue
    }
    if (f.label === 'single') {
      if (f.presence === 'implicit' && isZero(f.value, v)) continue
      w.uint32(f.tag)
      writeValue(w, f.value, v, path, f.seg)
    } else if (f.label === 'repeated') {
      if (!Array.isArray(v)) fail(path, f.seg, 'expected an array')
      const items: readonly unknown[] = v
      if (items.length === 0) continue
      const at: Path = { up: path, seg: f.seg }
      if (f.packed) {
        w.uint32(f.tag).fork()
        items.forEach((item, i) => writeValue(w, f.value, item, at, `[${i}]`))
        w.ldelim()
      } else {
        items.forEach((item, i) => {
          w.uint32(f.tag)
          writeValue(w, f.value, item, at, `[${i}]`)
        })
      }
    } else {
      const map = asObject(v, path, f.seg, 'a record')
      const at: Path = { up: path, seg: f.seg }
      for (const [key, item] of Object.entries(map)) {
        w.uint32(f.tag).fork().uint32(10)
        writeValue(w, { kind: 'scalar', scalar: 'string' }, key, at, keySeg(key))
        w.uint32((2 << 3) | f.wireType)
        writeValue(w, f.value, item, at, keySeg(key))
        w.ldelim()
      }
    }
  }
}

/** Whether `v` is the (valid) zero value of `vp`, omitted for implicit-presence fields. */
function isZero(vp: ValuePlan, v: unknown): boolean {
  switch (vp.kind) {
    case 'message':
      return false
    case 'enum':
      return vp.codec.toWire.get(v as string | number) === 0
    case 'scalar':
      switch (vp.scalar) {
        case 'string':
          return v === ''
        case 'bytes':
          return v instanceof Uint8Array && v.length === 0
        case 'bool':
          return v === false
        case 'double':
          return Object.is(v, 0)
        case 'uint64':
          return v === 0n
        default:
          return v === 0
      }
  }
}

function writeValue(w: protobuf.Writer, vp: ValuePlan, v: unknown, path: Path | undefined, seg: string): void {
  switch (vp.kind) {
    case 'message':
      w.fork()
      writeMessage(w, vp.plan, v, { up: path, seg })
      w.ldelim()
      return
    case 'enum': {
      const n = vp.codec.toWire.get(v as string | number)
      if (n === undefined) fail(path, seg, `unknown ${vp.codec.name} value ${JSON.stringify(v) ?? String(v)}`)
      w.int32(n)
      return
    }
    case 'scalar':
      break
  }
  switch (vp.scalar) {
    case 'string':
      if (typeof v !== 'string') fail(path, seg, 'expected a string')
      if (!isWellFormed(v)) fail(path, seg, 'string is not well-formed Unicode (lone surrogate)')
      w.string(v)
      return
    case 'bytes':
      if (!(v instanceof Uint8Array)) fail(path, seg, 'expected a Uint8Array')
      w.bytes(v)
      return
    case 'bool':
      if (typeof v !== 'boolean') fail(path, seg, 'expected a boolean')
      w.bool(v)
      return
    case 'double':
      if (typeof v !== 'number') fail(path, seg, 'expected a number')
      w.double(v)
      return
    case 'int64':
    case 'sint64':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(path, seg, `expected a safe integer, got ${String(v)}`)
      if (vp.scalar === 'int64') w.int64(v)
      else w.sint64(v)
      return
    case 'int32':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) fail(path, seg, `expected a 32-bit integer, got ${String(v)}`)
      w.int32(v)
      return
    case 'uint32':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= TWO_32) fail(path, seg, `expected an unsigned 32-bit integer, got ${String(v)}`)
      w.uint32(v)
      return
    case 'uint64':
      if (typeof v !== 'bigint' || v < 0n || v > MAX_UINT64) fail(path, seg, `expected a bigint in 0..2^64-1, got ${String(v)}`)
      w.uint64(Long.fromBits(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0, true))
      return
  }
}
