/**
 * Parses the `swarmkit.v1` .proto files (lazily, on first use, from their text embedded in
 * src/generated/proto-sources.ts — no file is read at run time) and compiles every message into a
 * {@link MessagePlan}: the field list the wire codec walks. The .proto conventions the plans
 * rely on are stated at the top of proto/swarmkit/v1/types.proto.
 *
 * @internal
 */
import protobuf from 'protobufjs'
import { enumTables, type EnumTable, type EnumTsValue } from './codec-enums.ts'
import { InternalError } from './errors.ts'
import { PROTO_SOURCES, type ProtoFile } from './generated/proto-sources.ts'

/** The proto package of every swarmkit-ts message. */
export const PROTO_PACKAGE = 'swarmkit.v1'

/** The .proto files of the package, in dependency order, relative to the package's proto/ folder. */
export const PROTO_FILES: readonly ProtoFile[] = [
  'swarmkit/v1/types.proto',
  'swarmkit/v1/specs.proto',
  'swarmkit/v1/objects.proto',
  'swarmkit/v1/events.proto',
  'swarmkit/v1/dispatcher.proto',
]

/** Repeated fields that are required in TypeScript: decoded as `[]` when empty. */
const REQUIRED_COLLECTIONS = new Set([
  'swarmkit.v1.PortStatus.ports',
  'swarmkit.v1.SessionMessage.managers',
  'swarmkit.v1.SessionMessage.networkBootstrapKeys',
  'swarmkit.v1.UpdateTaskStatusRequest.updates',
  'swarmkit.v1.AssignmentsMessage.changes',
])
/** Oneofs of which exactly one member must be set. */
const REQUIRED_ONEOFS = new Set([
  'swarmkit.v1.ServiceMode.mode',
  'swarmkit.v1.GenericResource.value',
  'swarmkit.v1.StoreObject.object',
  'swarmkit.v1.Assignment.item',
])
/** Messages whose member names are left out of error paths (a wrapper, not a TypeScript level). */
const TRANSPARENT_MESSAGES = new Set(['swarmkit.v1.StoreObject'])

/** Scalar proto types the codec supports, with their TypeScript carriers. */
export type ScalarKind = 'string' | 'bytes' | 'bool' | 'double' | 'int32' | 'uint32' | 'int64' | 'sint64' | 'uint64'
const SCALAR_WIRE_TYPES: Readonly<Record<ScalarKind, number>> = {
  string: 2,
  bytes: 2,
  bool: 0,
  double: 1,
  int32: 0,
  uint32: 0,
  int64: 0,
  sint64: 0,
  uint64: 0,
}
const isScalarKind = (t: string): t is ScalarKind => Object.hasOwn(SCALAR_WIRE_TYPES, t)

/** A proto enum with its mapping to TypeScript values. */
export interface EnumCodec {
  /** Full name of the enum, e.g. `swarmkit.v1.NodeRole`. */
  readonly name: string
  readonly toWire: ReadonlyMap<EnumTsValue, number>
  readonly fromWire: ReadonlyMap<number, EnumTsValue>
}

/** How one value (a field, or one element of a repeated field or map) is carried. */
export type ValuePlan =
  | { readonly kind: 'scalar'; readonly scalar: ScalarKind }
  | { readonly kind: 'enum'; readonly codec: EnumCodec }
  | { readonly kind: 'message'; readonly plan: MessagePlan }

/** A oneof with its member field names. */
export interface OneofPlan {
  readonly name: string
  readonly members: readonly string[]
  /** Exactly one member must be set (otherwise at most one). */
  readonly required: boolean
}

/** One field of a message. */
export interface FieldPlan {
  /** TypeScript (camelCase) name. */
  readonly name: string
  readonly id: number
  readonly label: 'single' | 'repeated' | 'map'
  /**
   * For single fields: `implicit` (required scalar, zero omitted), `explicit` (optional or oneof
   * member) or `required` (required message). Collections are `explicit`.
   */
  readonly presence: 'implicit' | 'explicit' | 'required'
  /** A required collection: decoded as empty when absent. */
  readonly requiredCollection: boolean
  /** The value (for a map: the map value; keys are always strings). */
  readonly value: ValuePlan
  /** Wire type of one value. */
  readonly wireType: number
  /** `id << 3 | wireType`, or for maps `id << 3 | 2`. */
  readonly tag: number
  /** Repeated scalars encoded packed (proto3 default). */
  readonly packed: boolean
  /** The real (non-synthetic) oneof the field belongs to. */
  readonly oneof: OneofPlan | undefined
  /** The field's error-path segment: `.name`, or empty for a field left out of error paths. */
  readonly seg: string
}

/** A compiled message. */
export interface MessagePlan {
  /** Full name, e.g. `swarmkit.v1.Node`. */
  readonly name: string
  readonly fields: readonly FieldPlan[]
  readonly byId: ReadonlyMap<number, FieldPlan>
  readonly byName: ReadonlyMap<string, FieldPlan>
  readonly oneofs: readonly OneofPlan[]
}

/** The compiled schema of package `swarmkit.v1`. */
export interface CodecSchema {
  /** The protobufjs root holding every parsed definition (for tests and tooling). */
  readonly root: protobuf.Root
  /** The plan of a message by full name; throws if unknown. */
  message(name: string): MessagePlan
  /** The enum codecs by full name. */
  readonly enums: ReadonlyMap<string, EnumCodec>
}

let cached: CodecSchema | undefined

/** The compiled schema, parsed from the embedded .proto text on first call. */
export function codecSchema(): CodecSchema {
  cached ??= compile(loadRoot())
  return cached
}

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root()
  for (const file of PROTO_FILES) protobuf.parse(PROTO_SOURCES[file], root, { keepCase: false })
  root.resolveAll()
  return root
}

function compile(root: protobuf.Root): CodecSchema {
  const ns = root.lookup(PROTO_PACKAGE)
  if (!(ns instanceof protobuf.Namespace)) throw new InternalError(`proto package ${PROTO_PACKAGE} not found`)
  const types: protobuf.Type[] = []
  const protoEnums: protobuf.Enum[] = []
  const collect = (n: protobuf.Namespace): void => {
    for (const child of n.nestedArray) {
      if (child instanceof protobuf.Type) types.push(child)
      else if (child instanceof protobuf.Enum) protoEnums.push(child)
      if (child instanceof protobuf.Namespace) collect(child)
    }
  }
  collect(ns)

  const tables = enumTables()
  const enums = new Map<string, EnumCodec>()
  for (const e of protoEnums) enums.set(fullName(e), compileEnum(e, tables.get(fullName(e))))
  for (const name of tables.keys()) if (!enums.has(name)) throw new InternalError(`enum table ${name} has no proto enum`)

  // Two passes so that messages may refer to each other in any order.
  interface Shell {
    plan: MessagePlan
    fields: FieldPlan[]
    oneofs: OneofPlan[]
    byId: Map<number, FieldPlan>
    byName: Map<string, FieldPlan>
  }
  const shells = new Map<string, Shell>()
  for (const t of types) {
    const shell: Omit<Shell, 'plan'> = { fields: [], oneofs: [], byId: new Map(), byName: new Map() }
    shells.set(fullName(t), { ...shell, plan: { name: fullName(t), ...shell } })
  }
  for (const t of types) {
    const shell = shells.get(fullName(t))
    if (shell === undefined) throw new InternalError('unreachable')
    const oneofByName = new Map<string, OneofPlan>()
    for (const o of t.oneofsArray) {
      if (isSynthetic(o)) continue
      const plan: OneofPlan = { name: o.name, members: o.fieldsArray.map((f) => f.name), required: REQUIRED_ONEOFS.has(`${fullName(t)}.${o.name}`) }
      oneofByName.set(o.name, plan)
      shell.oneofs.push(plan)
    }
    for (const f of [...t.fieldsArray].sort((a, b) => a.id - b.id)) {
      const plan = compileField(t, f, shells, enums, oneofByName)
      shell.fields.push(plan)
      shell.byId.set(plan.id, plan)
      shell.byName.set(plan.name, plan)
    }
  }
  const member = (where: string): { plan: MessagePlan | undefined; last: string } => {
    const dot = where.lastIndexOf('.')
    return { plan: shells.get(where.slice(0, dot))?.plan, last: where.slice(dot + 1) }
  }
  for (const where of REQUIRED_ONEOFS) {
    const { plan, last } = member(where)
    if (plan?.oneofs.some((o) => o.name === last) !== true) throw new InternalError(`codec schema: no oneof ${where}`)
  }
  for (const where of REQUIRED_COLLECTIONS) {
    const { plan, last } = member(where)
    if (plan?.byName.get(last)?.label !== 'repeated') throw new InternalError(`codec schema: no repeated field ${where}`)
  }
  for (const name of TRANSPARENT_MESSAGES) if (!shells.has(name)) throw new InternalError(`codec schema: no message ${name}`)

  return {
    root,
    enums,
    message(name: string): MessagePlan {
      const shell = shells.get(name)
      if (shell === undefined) throw new InternalError(`unknown message ${name}`)
      return shell.plan
    },
  }
}

function compileField(
  t: protobuf.Type,
  f: protobuf.Field,
  shells: ReadonlyMap<string, { plan: MessagePlan }>,
  enums: ReadonlyMap<string, EnumCodec>,
  oneofByName: ReadonlyMap<string, OneofPlan>,
): FieldPlan {
  const where = `${fullName(t)}.${f.name}`
  // keepCase:false turns snake_case into camelCase; a leftover underscore means a name the
  // conversion does not handle (e.g. a one-letter segment), which would not match TypeScript.
  if (!/^[a-z][a-zA-Z0-9]*$/.test(f.name)) throw new InternalError(`${where}: field name is not camelCase`)
  f.resolve()
  let value: ValuePlan
  let wireType: number
  const resolved = f.resolvedType
  if (resolved instanceof protobuf.Type) {
    const shell = shells.get(fullName(resolved))
    if (shell === undefined) throw new InternalError(`${where}: message ${fullName(resolved)} is outside ${PROTO_PACKAGE}`)
    value = { kind: 'message', plan: shell.plan }
    wireType = 2
  } else if (resolved instanceof protobuf.Enum) {
    const codec = enums.get(fullName(resolved))
    if (codec === undefined) throw new InternalError(`${where}: enum ${fullName(resolved)} is outside ${PROTO_PACKAGE}`)
    value = { kind: 'enum', codec }
    wireType = 0
  } else if (isScalarKind(f.type)) {
    value = { kind: 'scalar', scalar: f.type }
    wireType = SCALAR_WIRE_TYPES[f.type]
  } else {
    throw new InternalError(`${where}: unsupported type ${f.type}`)
  }

  const isMap = f instanceof protobuf.MapField
  if (isMap && f.keyType !== 'string') throw new InternalError(`${where}: only string map keys are supported`)
  const label = isMap ? 'map' : f.repeated ? 'repeated' : 'single'
  const optional = f.options?.['proto3_optional'] === true
  const oneof = f.partOf !== null && !isSynthetic(f.partOf) ? oneofByName.get(f.partOf.name) : undefined
  const presence = label !== 'single' || optional || oneof !== undefined ? 'explicit' : value.kind === 'message' ? 'required' : 'implicit'
  const packed = label === 'repeated' && wireType !== 2
  return {
    name: f.name,
    id: f.id,
    label,
    presence,
    requiredCollection: REQUIRED_COLLECTIONS.has(where),
    value,
    wireType,
    tag: ((f.id << 3) | (label === 'map' || packed ? 2 : wireType)) >>> 0,
    packed,
    oneof,
    seg: TRANSPARENT_MESSAGES.has(fullName(t)) ? '' : `.${f.name}`,
  }
}

function compileEnum(e: protobuf.Enum, table: EnumTable | undefined): EnumCodec {
  const name = fullName(e)
  if (table === undefined) throw new InternalError(`proto enum ${name} has no table in codec-enums.ts`)
  const toWire = new Map<EnumTsValue, number>()
  const fromWire = new Map<number, EnumTsValue>()
  for (const [ts, protoName] of table) {
    const n = e.values[protoName]
    if (n === undefined) throw new InternalError(`enum ${name} has no value ${protoName}`)
    if (fromWire.has(n)) throw new InternalError(`enum ${name}: ${protoName} mapped twice`)
    toWire.set(ts, n)
    fromWire.set(n, ts)
  }
  for (const [protoName, n] of Object.entries(e.values)) {
    if (fromWire.has(n)) continue
    if (n === 0 && protoName.endsWith('_UNSPECIFIED')) continue
    throw new InternalError(`enum ${name}: value ${protoName} has no TypeScript value`)
  }
  return { name, toWire, fromWire }
}

function isSynthetic(o: protobuf.OneOf): boolean {
  const only = o.fieldsArray[0]
  return o.fieldsArray.length === 1 && only !== undefined && only.options?.['proto3_optional'] === true
}

function fullName(o: protobuf.ReflectionObject): string {
  return o.fullName.replace(/^\./, '')
}
