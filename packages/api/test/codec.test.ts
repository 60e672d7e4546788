import Long from 'long'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import {
  decodeObject,
  decodeSpec,
  decodeStoreEvent,
  encodeObject,
  encodeSpec,
  encodeStoreEvent,
  OBJECT_KINDS,
  TASK_STATES,
  TaskState,
  taskStateName,
  type Annotations,
  type Cluster,
  type ObjectKind,
  type ObjectKinds,
  type ServiceSpec,
  type SpecKind,
  type StoreEvent,
} from '../src/index.ts'
import { codecSchema } from '../src/codec-schema.ts'
import { annotations, cluster, FULL, meta, MINIMAL, node, serviceSpec, SPECS, task, u8 } from './codec-fixtures.ts'

// ---------------------------------------------------------------- helpers

/** Fails unless `v` is made of plain objects, non-empty arrays, bigints, numbers, strings, booleans and plain Uint8Arrays. */
function expectPlain(v: unknown, path = '$', allowEmptyArray = false): void {
  if (v instanceof Uint8Array) {
    expect(v.constructor, path).toBe(Uint8Array)
    return
  }
  if (Array.isArray(v)) {
    if (!allowEmptyArray) expect(v.length, `${path} is an empty array`).toBeGreaterThan(0)
    v.forEach((x, i) => expectPlain(x, `${path}[${i}]`))
    return
  }
  if (typeof v === 'object' && v !== null) {
    expect(Object.getPrototypeOf(v), `${path} prototype`).toBe(Object.prototype)
    for (const [k, x] of Object.entries(v)) {
      expect(x, `${path}.${k}`).not.toBeUndefined()
      expectPlain(x, `${path}.${k}`, k === 'ports' && path.endsWith('portStatus'))
    }
    return
  }
  expect(['string', 'number', 'boolean', 'bigint'], path).toContain(typeof v)
}

const invalid = (field: string): unknown => expect.objectContaining({ name: 'InvalidArgumentError', field })

const root = (): protobuf.Root => codecSchema().root
const T = (name: string): protobuf.Type => root().lookupType(`swarmkit.v1.${name}`)

/** Re-encodes `bytes` of message `name` with protobufjs after `edit` changes its decoded message. */
function tamper(name: string, bytes: Uint8Array, edit: (m: Record<string, unknown>) => void): Uint8Array {
  const msg = T(name).decode(bytes) as unknown as Record<string, unknown>
  edit(msg)
  return T(name).encode(msg).finish()
}

/** A deterministic byte source (xorshift32). */
function pseudoBytes(seed: number, n: number): Uint8Array {
  let x = seed >>> 0 || 1
  return Uint8Array.from({ length: n }, () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x & 0xff
  })
}

// ---------------------------------------------------------------- tests

describe('object round trips', () => {
  it.each(OBJECT_KINDS)('a rich %s round-trips exactly into plain values', (kind) => {
    const bytes = encodeObject(kind, FULL[kind])
    expect(bytes.constructor).toBe(Uint8Array)
    expect(bytes.byteOffset).toBe(0)
    expect(bytes.buffer.byteLength).toBe(bytes.length)
    const back = decodeObject(kind, bytes)
    expect(back).toStrictEqual(FULL[kind])
    expectPlain(back)
    expect(encodeObject(kind, back)).toEqual(bytes)
  })

  it.each(OBJECT_KINDS)('a minimal %s round-trips exactly', (kind) => {
    const back = decodeObject(kind, encodeObject(kind, MINIMAL[kind]))
    expect(back).toStrictEqual(MINIMAL[kind])
    expectPlain(back)
  })

  it('decoded bytes never alias the input', () => {
    const bytes = encodeObject('secret', FULL.secret)
    const back = decodeObject('secret', bytes)
    bytes.fill(0)
    expect(back.spec.data).toEqual(u8(0, 255, 1))
  })

  it('accepts a Buffer as input and still returns plain Uint8Arrays', () => {
    const back = decodeObject('secret', Buffer.from(encodeObject('secret', FULL.secret)))
    expect(back).toStrictEqual(FULL.secret)
    expect(back.spec.data.constructor).toBe(Uint8Array)
  })
})

describe('spec round trips', () => {
  it.each(Object.keys(SPECS) as SpecKind[])('a %s spec round-trips exactly', (kind) => {
    const back = decodeSpec(kind, encodeSpec(kind, SPECS[kind]))
    expect(back).toStrictEqual(SPECS[kind])
    expectPlain(back)
  })

  it.each([{ replicated: {} }, { replicated: { replicas: 0 } }, { global: {} }, { replicatedJob: { maxConcurrent: 0, totalCompletions: 9 } }, { globalJob: {} }] as const)(
    'service mode %o round-trips',
    (mode) => {
      const spec: ServiceSpec = { annotations: { name: 's' }, task: {}, mode }
      expect(decodeSpec('service', encodeSpec('service', spec))).toStrictEqual(spec)
    },
  )

  it.each([{ attachment: { containerId: '' } }, { generic: { kind: 'vm' } }, { generic: { kind: 'vm', payload: u8() } }, { container: { image: '' } }] as const)(
    'task runtime %o round-trips',
    (runtime) => {
      const spec: ServiceSpec = { annotations: { name: 's' }, task: runtime, mode: { global: {} } }
      expect(decodeSpec('service', encodeSpec('service', spec))).toStrictEqual(spec)
    },
  )

  it('rejects two service modes, no service mode and two runtimes', () => {
    const base: ServiceSpec = { annotations: { name: 's' }, task: {}, mode: { global: {} } }
    const twoModes = { ...base, mode: { global: {}, globalJob: {} } } as unknown as ServiceSpec
    expect(() => encodeSpec('service', twoModes)).toThrow(invalid('mode'))
    expect(() => encodeSpec('service', { ...base, mode: {} } as unknown as ServiceSpec)).toThrow(invalid('mode'))
    expect(() => encodeSpec('service', { ...base, task: { attachment: { containerId: 'x' }, generic: { kind: 'k' } } })).toThrow(invalid('task'))
    const noMode = tamper('ServiceSpec', encodeSpec('service', base), (m) => {
      delete m['mode']
    })
    expect(() => decodeSpec('service', noMode)).toThrow(invalid('mode'))
    const emptyMode = tamper('ServiceSpec', encodeSpec('service', base), (m) => {
      m['mode'] = {}
    })
    expect(() => decodeSpec('service', emptyMode)).toThrow(invalid('mode'))
  })

  it('a generic resource keeps which value it has, even 0 and the empty string', () => {
    const spec: ServiceSpec = {
      annotations: { name: 's' },
      task: { resources: { limits: { generic: [{ kind: 'a', discreteValue: 0 }, { kind: 'b', namedValue: '' }, { kind: '', discreteValue: -5 }] } } },
      mode: { global: {} },
    }
    expect(decodeSpec('service', encodeSpec('service', spec))).toStrictEqual(spec)
    const both = { kind: 'x', namedValue: 'n', discreteValue: 1 }
    const bad = { ...spec, task: { resources: { limits: { generic: [both] } } } } as unknown as ServiceSpec
    expect(() => encodeSpec('service', bad)).toThrow(invalid('task.resources.limits.generic[0]'))
  })
})

describe('64-bit fields', () => {
  const EXACT = [0n, 1n, 2n ** 53n + 1n, 2n ** 63n + 1n, 2n ** 64n - 1n]

  it.each(EXACT)('uint64 %s is exact in every bigint field', (v) => {
    const svc = { ...FULL.service, meta: meta(v), specVersion: { index: v }, previousSpecVersion: { index: v }, jobStatus: { jobIteration: { index: v } } }
    expect(decodeObject('service', encodeObject('service', svc))).toStrictEqual(svc)
    const t = { ...task, specVersion: { index: v }, jobIteration: { index: v } }
    expect(decodeObject('task', encodeObject('task', t))).toStrictEqual(t)
    const n = { ...node, managerStatus: { raftId: v, addr: 'a', leader: false, reachability: 'unknown' as const } }
    expect(decodeObject('node', encodeObject('node', n))).toStrictEqual(n)
    const c: Cluster = {
      ...cluster,
      encryptionKeyLamportClock: v,
      networkBootstrapKeys: [{ subsystem: 's', algorithm: 'aes_128_gcm', key: u8(1), lamportTime: v }],
    }
    expect(decodeObject('cluster', encodeObject('cluster', c))).toStrictEqual(c)
    const commit: StoreEvent = { action: 'commit', version: { index: v } }
    expect(decodeStoreEvent(encodeStoreEvent(commit))).toStrictEqual(commit)
  })

  it('writes uint64 as protobufjs reads it', () => {
    const bytes = encodeObject('node', { ...node, managerStatus: { raftId: 2n ** 64n - 1n, addr: '', leader: false, reachability: 'unknown' } })
    const m = T('Node').toObject(T('Node').decode(bytes), { longs: String })
    expect(m['managerStatus']).toMatchObject({ raftId: '18446744073709551615' })
  })

  it('rejects bigints out of range and numbers in uint64 fields when encoding', () => {
    expect(() => encodeObject('extension', { ...FULL.extension, meta: meta(2n ** 64n) })).toThrow(invalid('meta.version.index'))
    expect(() => encodeObject('extension', { ...FULL.extension, meta: meta(-1n) })).toThrow(invalid('meta.version.index'))
    const numeric = { ...FULL.extension, meta: { ...meta(0n), version: { index: 1 } } } as unknown as ObjectKinds['extension']
    expect(() => encodeObject('extension', numeric)).toThrow(invalid('meta.version.index'))
  })

  it.each([2 ** 53 - 1, -(2 ** 53 - 1)])('int64 number %d (a safe integer) round-trips', (v) => {
    const t = { ...task, slot: v, status: { ...task.status, timestamp: v } }
    expect(decodeObject('task', encodeObject('task', t))).toStrictEqual(t)
  })

  it.each(['9007199254740992', '-9007199254740992', '9223372036854775807', '-9223372036854775808'])(
    'int64 %s on the wire is rejected naming the field',
    (wire) => {
      const bytes = tamper('Task', encodeObject('task', task), (m) => {
        ;(m['status'] as Record<string, unknown>)['timestamp'] = Long.fromString(wire)
      })
      expect(() => decodeObject('task', bytes)).toThrow(invalid('status.timestamp'))
      const deep = tamper('Service', encodeObject('service', FULL.service), (m) => {
        const ulimit = ((m['spec'] as { task: { container: { ulimits: Record<string, unknown>[] } } }).task.container.ulimits)[0]
        if (ulimit) ulimit['soft'] = Long.fromString(wire)
      })
      expect(() => decodeObject('service', deep)).toThrow(invalid('spec.task.container.ulimits[0].soft'))
    },
  )

  it('rejects an unsafe int64 in a hand-written message', () => {
    const w = new protobuf.Writer()
    w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).fork().ldelim().uint32(2 << 3).int64(Long.fromString('9007199254740993')).ldelim()
    w.uint32((3 << 3) | 2).fork().ldelim()
    expect(() => decodeObject('extension', w.finish())).toThrow(invalid('meta.createdAt'))
  })

  it.each([2 ** 53, -(2 ** 53), 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the number %d in an int64 field when encoding', (v) => {
    expect(() => encodeObject('task', { ...task, slot: v })).toThrow(invalid('slot'))
  })
})

describe('enums', () => {
  const protoValue = (enumName: string, name: string): number | undefined => root().lookupEnum(`swarmkit.v1.${enumName}`).values[name]

  it.each([
    ['RestartCondition', 'none', 'RESTART_CONDITION_NONE'],
    ['RestartCondition', 'on-failure', 'RESTART_CONDITION_ON_FAILURE'],
    ['UpdateState', 'rollback_started', 'UPDATE_STATE_ROLLBACK_STARTED'],
    ['UpdateOrder', 'start-first', 'UPDATE_ORDER_START_FIRST'],
    ['NodeRole', 'worker', 'NODE_ROLE_WORKER'],
    ['MountType', 'npipe', 'MOUNT_TYPE_NPIPE'],
    ['EncryptionAlgorithm', 'aes_128_gcm', 'ENCRYPTION_ALGORITHM_AES_128_GCM'],
    ['StoreAction', 'commit', 'STORE_ACTION_COMMIT'],
  ])('%s %s maps to %s', (enumName, ts, name) => {
    const codec = codecSchema().enums.get(`swarmkit.v1.${enumName}`)
    expect(codec?.toWire.get(ts)).toBe(protoValue(enumName, name))
    expect(codec?.fromWire.get(protoValue(enumName, name) ?? -1)).toBe(ts)
  })

  it('writes the mapped numbers on the wire', () => {
    const m = T('ServiceSpec').decode(encodeSpec('service', serviceSpec)) as unknown as { task: { restart: { condition: number } }; update: { order: number } }
    expect(m.task.restart.condition).toBe(protoValue('RestartCondition', 'RESTART_CONDITION_ON_FAILURE'))
    expect(m.update.order).toBe(protoValue('UpdateOrder', 'UPDATE_ORDER_START_FIRST'))
  })

  it('TaskState proto values equal the TypeScript values, and every state round-trips', () => {
    for (const s of TASK_STATES) {
      expect(protoValue('TaskState', `TASK_STATE_${taskStateName(s)}`)).toBe(s)
      const t = { ...task, desiredState: s, status: { ...task.status, state: s } }
      expect(decodeObject('task', encodeObject('task', t))).toStrictEqual(t)
    }
    expect(Object.keys(root().lookupEnum('swarmkit.v1.TaskState').values)).toHaveLength(TASK_STATES.length)
  })

  it('rejects unknown values both ways, and a missing required enum', () => {
    expect(() => encodeSpec('node', { ...SPECS.node, desiredRole: 'boss' as 'worker' })).toThrow(invalid('desiredRole'))
    const wire99 = tamper('NodeSpec', encodeSpec('node', SPECS.node), (m) => {
      m['desiredRole'] = 99
    })
    expect(() => decodeSpec('node', wire99)).toThrow(invalid('desiredRole'))
    const unspecified = tamper('NodeSpec', encodeSpec('node', SPECS.node), (m) => {
      m['availability'] = 0
    })
    expect(() => decodeSpec('node', unspecified)).toThrow(invalid('availability'))
    const task99 = tamper('Task', encodeObject('task', task), (m) => {
      m['desiredState'] = 65
    })
    expect(() => decodeObject('task', task99)).toThrow(invalid('desiredState'))
  })
})

describe('presence', () => {
  it('keeps 0, empty string and false apart from absent', () => {
    const withZero: ServiceSpec = { annotations: { name: 's' }, task: { restart: { delayMs: 0 } }, mode: { replicated: { replicas: 0 } } }
    const without: ServiceSpec = { annotations: { name: 's' }, task: { restart: {} }, mode: { replicated: {} } }
    expect(encodeSpec('service', withZero)).not.toEqual(encodeSpec('service', without))
    expect(decodeSpec('service', encodeSpec('service', withZero))).toStrictEqual(withZero)
    expect(decodeSpec('service', encodeSpec('service', without))).toStrictEqual(without)
    const flags: ObjectKinds['secret'] = { ...MINIMAL.secret, internal: false }
    expect(decodeObject('secret', encodeObject('secret', flags))).toStrictEqual(flags)
    expect(decodeObject('secret', encodeObject('secret', MINIMAL.secret))).not.toHaveProperty('internal')
  })

  it('omits empty collections and keeps the required PortStatus.ports as []', () => {
    const spec: ServiceSpec = { annotations: { name: 's', labels: {}, indices: [] }, task: { placement: { constraints: [] } }, mode: { global: {} } }
    expect(decodeSpec('service', encodeSpec('service', spec))).toStrictEqual({ annotations: { name: 's' }, task: { placement: {} }, mode: { global: {} } })
    expect(decodeObject('task', encodeObject('task', task)).status.portStatus).toStrictEqual({ ports: [] })
  })

  it('keeps a "__proto__" map key as an own property', () => {
    const labels = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>
    const spec = { ...SPECS.node, annotations: { name: 'n', labels } }
    const back = decodeSpec('node', encodeSpec('node', spec))
    expect(Object.getPrototypeOf(back.annotations.labels)).toBe(Object.prototype)
    expect(Object.entries(back.annotations.labels ?? {})).toEqual([['__proto__', 'x'], ['a', 'b']])
  })

  it('rejects missing required fields on encode and decode', () => {
    const { meta: _m, ...noMeta } = FULL.extension
    expect(() => encodeObject('extension', noMeta as ObjectKinds['extension'])).toThrow(invalid('meta'))
    const { name: _n, ...noName } = annotations
    expect(() => encodeObject('extension', { ...FULL.extension, annotations: noName as Annotations })).toThrow(invalid('annotations.name'))
    const stripped = tamper('Extension', encodeObject('extension', FULL.extension), (m) => {
      delete m['meta']
    })
    expect(() => decodeObject('extension', stripped)).toThrow(invalid('meta'))
  })

  it('rejects fields the schema does not have, and values of the wrong type', () => {
    expect(() => encodeObject('extension', { ...FULL.extension, extra: 1 } as ObjectKinds['extension'])).toThrow(invalid('extra'))
    expect(() => encodeSpec('node', { ...SPECS.node, annotations: { name: 7 as unknown as string } })).toThrow(invalid('annotations.name'))
    expect(() => encodeSpec('secret', { ...SPECS.secret, data: [1, 2] as unknown as Uint8Array })).toThrow(invalid('data'))
    expect(() => encodeSpec('node', { ...SPECS.node, annotations: { name: 'n', labels: { k: 1 as unknown as string } } })).toThrow(invalid('annotations.labels["k"]'))
  })
})

describe('strings', () => {
  it('round-trips any well-formed Unicode, including a leading BOM', () => {
    const name = '\uFEFF😀 ünï \u0000 \u{10FFFF}'
    expect(decodeSpec('node', encodeSpec('node', { ...SPECS.node, annotations: { name } })).annotations.name).toBe(name)
  })

  it('rejects a lone surrogate on encode and invalid UTF-8 on decode', () => {
    expect(() => encodeSpec('node', { ...SPECS.node, annotations: { name: 'a\uD800' } })).toThrow(invalid('annotations.name'))
    const w = new protobuf.Writer()
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).bytes(u8(0xc3, 0x28)).ldelim()
    expect(() => decodeSpec('node', w.finish())).toThrow(invalid('annotations.name'))
  })
})

describe('store events', () => {
  const EVENTS: StoreEvent[] = [
    { action: 'create', kind: 'node', object: node },
    { action: 'update', kind: 'task', object: task, oldObject: { ...task, desiredState: TaskState.SHUTDOWN } },
    { action: 'update', kind: 'service', object: FULL.service },
    { action: 'delete', kind: 'resource', object: FULL.resource },
    { action: 'commit', version: { index: 2n ** 64n - 1n } },
    ...OBJECT_KINDS.map((kind): StoreEvent => ({ action: 'create', kind, object: MINIMAL[kind] }) as StoreEvent),
  ]

  it.each(EVENTS)('a $action event ($kind) round-trips exactly', (ev) => {
    const back = decodeStoreEvent(encodeStoreEvent(ev))
    expect(back).toStrictEqual(ev)
    expectPlain(back)
  })

  it('names fields inside the object relative to the event', () => {
    const bad = { action: 'create', kind: 'node', object: { ...node, role: 'boss' } } as unknown as StoreEvent
    expect(() => encodeStoreEvent(bad)).toThrow(invalid('object.role'))
  })

  it('rejects malformed events', () => {
    expect(() => encodeStoreEvent({ action: 'explode' } as unknown as StoreEvent)).toThrow(invalid('action'))
    expect(() => encodeStoreEvent({ action: 'create', kind: 'widget', object: node } as unknown as StoreEvent)).toThrow(invalid('kind'))
    expect(() => encodeStoreEvent({ action: 'delete', kind: 'node', object: node, oldObject: node } as unknown as StoreEvent)).toThrow(invalid('oldObject'))
    expect(() => encodeStoreEvent({ action: 'commit' } as unknown as StoreEvent)).toThrow(invalid('version'))
    const mixed = tamper('StoreEvent', encodeStoreEvent({ action: 'update', kind: 'task', object: task, oldObject: task }), (m) => {
      m['oldObject'] = { node }
    })
    expect(() => decodeStoreEvent(mixed)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    const commitWithObject = tamper('StoreEvent', encodeStoreEvent({ action: 'create', kind: 'task', object: task }), (m) => {
      m['action'] = 4
    })
    expect(() => decodeStoreEvent(commitWithObject)).toThrow(invalid('object'))
    const createWithout = tamper('StoreEvent', encodeStoreEvent({ action: 'commit', version: { index: 1n } }), (m) => {
      m['action'] = 1
    })
    expect(() => decodeStoreEvent(createWithout)).toThrow(invalid('version'))
  })
})

describe('malformed input', () => {
  it.each([
    ['a length past the end', u8(0x0a, 0x05, 0x61)],
    ['a truncated varint', u8(0x10, 0xff)],
    ['field number 0', u8(0x00, 0x01)],
    ['wire type 7', u8(0x0f)],
    ['an end-group tag', u8(0x0c)],
    ['an 11-byte varint', u8(0x10, ...Array<number>(10).fill(0xff), 0x01)],
    ['all 0xff', new Uint8Array(32).fill(0xff)],
  ])('rejects %s with an InvalidArgumentError', (_what, bytes) => {
    expect(() => decodeObject('node', bytes)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
  })

  it('rejects a wrong wire type for a known field, naming it', () => {
    expect(() => decodeObject('extension', u8(0x08, 0x01))).toThrow(invalid('id'))
  })

  it('rejects what is not bytes, and unknown kinds', () => {
    expect(() => decodeObject('node', 'abc' as unknown as Uint8Array)).toThrow(invalid(''))
    expect(() => decodeObject('widget' as ObjectKind, u8())).toThrow(invalid('kind'))
    expect(() => encodeSpec('task' as SpecKind, SPECS.node)).toThrow(invalid('kind'))
  })

  it('never throws anything but InvalidArgumentError on garbage or truncated input', () => {
    const samples: Uint8Array[] = []
    for (let seed = 1; seed <= 300; seed++) samples.push(pseudoBytes(seed, 1 + (seed % 64)))
    const valid = encodeObject('service', FULL.service)
    for (let n = 0; n < valid.length; n += 7) samples.push(valid.subarray(0, n))
    for (let i = 0; i < valid.length; i += 11) {
      const flipped = valid.slice()
      flipped[i] = (flipped[i] ?? 0) ^ 0x5a
      samples.push(flipped)
    }
    for (const bytes of samples) {
      for (const kind of OBJECT_KINDS) {
        try {
          decodeObject(kind, bytes)
        } catch (err) {
          expect(err).toMatchObject({ name: 'InvalidArgumentError' })
        }
      }
      try {
        decodeStoreEvent(bytes)
      } catch (err) {
        expect(err).toMatchObject({ name: 'InvalidArgumentError' })
      }
    }
  })

  it('skips unknown fields (forward compatibility)', () => {
    const w = new protobuf.Writer()
    w.uint32((999 << 3) | 2).string('future').uint32(1000 << 3).uint64(Long.MAX_UNSIGNED_VALUE).uint32((1001 << 3) | 5).fixed32(7)
    const bytes = encodeObject('node', node)
    const extra = w.finish()
    const joined = new Uint8Array(bytes.length + extra.length)
    joined.set(bytes)
    joined.set(extra, bytes.length)
    expect(decodeObject('node', joined)).toStrictEqual(node)
  })
})

describe('compatibility with protobufjs', () => {
  it('decodes what protobufjs encodes from the same schema', () => {
    const m = T('NodeSpec').fromObject({ annotations: { name: 'x', labels: { a: 'b' } }, desiredRole: 'NODE_ROLE_MANAGER', membership: 1, availability: 3 })
    expect(decodeSpec('node', T('NodeSpec').encode(m).finish())).toStrictEqual({
      annotations: { name: 'x', labels: { a: 'b' } },
      desiredRole: 'manager',
      membership: 'pending',
      availability: 'drain',
    })
  })

  it('protobufjs reads every rich object back to the same bytes', () => {
    for (const kind of OBJECT_KINDS) {
      const bytes = encodeObject(kind, FULL[kind])
      const type = T(kind[0]?.toUpperCase() + kind.slice(1))
      expect(decodeObject(kind, type.encode(type.decode(bytes)).finish())).toStrictEqual(FULL[kind])
    }
  })
})
