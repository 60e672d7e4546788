import fc from 'fast-check'
import type protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import {
  decodeDispatcherMessage,
  DISPATCHER_MESSAGE_TYPES,
  encodeDispatcherMessage,
  TaskState,
  type AssignmentChange,
  type AssignmentsMessage,
  type DispatcherMessages,
  type DispatcherMessageType,
  type SessionMessage,
  type UpdateTaskStatusRequest,
} from '../src/index.ts'
import { codecSchema } from '../src/codec-schema.ts'
import { FULL, MINIMAL, node, task, u8 } from './codec-fixtures.ts'

const invalid = (field: string): unknown => expect.objectContaining({ name: 'InvalidArgumentError', field })
/** Records with Object.prototype, as decoded values have. */
const PLAIN = { noNullPrototype: true } as const
const T = (name: string): protobuf.Type => codecSchema().root.lookupType(`swarmkit.v1.${name}`)

const roundTrip = <K extends DispatcherMessageType>(type: K, value: DispatcherMessages[K]): DispatcherMessages[K] =>
  decodeDispatcherMessage(type, encodeDispatcherMessage(type, value))

const sessionMessage: SessionMessage = {
  sessionId: 'sess-1',
  node,
  managers: [
    { nodeId: 'a'.repeat(25), addr: '10.0.0.1:4242', weight: 10 },
    { nodeId: 'b'.repeat(25), addr: '10.0.0.2:4242', weight: 0 },
  ],
  networkBootstrapKeys: [{ subsystem: 'networking:gossip', algorithm: 'aes_128_gcm', key: u8(1, 2, 3), lamportTime: 2n ** 64n - 1n }],
  rootCa: new TextEncoder().encode('-----BEGIN CERTIFICATE-----\n'),
}

const changes: AssignmentChange[] = [
  { action: 'update', assignment: { task } },
  { action: 'update', assignment: { secret: FULL.secret } },
  { action: 'remove', assignment: { config: FULL.config } },
  { action: 'remove', assignment: { task: MINIMAL.task } },
]

/** One full example of every message, and one with everything optional left out. */
const EXAMPLES: { [K in DispatcherMessageType]: readonly DispatcherMessages[K][] } = {
  SessionRequest: [{ description: node.description ?? {}, sessionId: 'sess-1' }, { description: {} }, { description: {}, sessionId: '' }],
  SessionMessage: [sessionMessage, { sessionId: '', node: MINIMAL.node, managers: [], networkBootstrapKeys: [], rootCa: u8() }],
  HeartbeatRequest: [{ sessionId: 'sess-1' }, { sessionId: '' }],
  HeartbeatResponse: [{ periodMs: 5000 }, { periodMs: 0 }],
  UpdateTaskStatusRequest: [
    { sessionId: 's', updates: [{ taskId: task.id, status: task.status }, { taskId: 'x', status: { timestamp: 0, state: TaskState.FAILED, err: 'boom' } }] },
    { sessionId: '', updates: [] },
  ],
  UpdateTaskStatusResponse: [{}],
  AssignmentsRequest: [{ sessionId: 'sess-1' }],
  AssignmentsMessage: [
    { type: 'complete', appliesTo: '', resultsIn: '1', changes },
    { type: 'incremental', appliesTo: '1', resultsIn: '2', changes: [] },
  ],
}

describe('dispatcher wire messages', () => {
  it('every message of dispatcher.proto that the DispatcherApi carries has a type name, and each round-trips exactly', () => {
    expect(DISPATCHER_MESSAGE_TYPES).toStrictEqual(Object.keys(EXAMPLES))
    for (const type of DISPATCHER_MESSAGE_TYPES) {
      for (const value of EXAMPLES[type]) expect(roundTrip(type, value), type).toStrictEqual(value)
    }
  })

  it('the required collections decode as [] when empty and the empty response decodes as {}', () => {
    const msg = roundTrip('SessionMessage', { ...sessionMessage, managers: [], networkBootstrapKeys: [] })
    expect(msg.managers).toStrictEqual([])
    expect(msg.networkBootstrapKeys).toStrictEqual([])
    expect(roundTrip('UpdateTaskStatusRequest', { sessionId: 's', updates: [] }).updates).toStrictEqual([])
    expect(roundTrip('AssignmentsMessage', { type: 'incremental', appliesTo: 'a', resultsIn: 'b', changes: [] }).changes).toStrictEqual([])
    expect(encodeDispatcherMessage('UpdateTaskStatusResponse', {})).toStrictEqual(new Uint8Array(0))
    expect(decodeDispatcherMessage('UpdateTaskStatusResponse', new Uint8Array(0))).toStrictEqual({})
  })

  it('the wire carries the SwarmKit-like field numbers and enum values', () => {
    const bytes = encodeDispatcherMessage('AssignmentsMessage', { type: 'incremental', appliesTo: 'a', resultsIn: 'b', changes: [{ action: 'remove', assignment: { secret: FULL.secret } }] })
    const raw = T('AssignmentsMessage').toObject(T('AssignmentsMessage').decode(bytes), { enums: String }) as Record<string, unknown>
    expect(raw['type']).toBe('ASSIGNMENTS_MESSAGE_TYPE_INCREMENTAL')
    expect(raw['appliesTo']).toBe('a')
    expect(raw['resultsIn']).toBe('b')
    const change = (raw['changes'] as Record<string, unknown>[])[0]
    expect(change?.['action']).toBe('ASSIGNMENT_ACTION_REMOVE')
    expect(Object.keys(change?.['assignment'] as object)).toStrictEqual(['secret'])
  })

  it('the service definition names the four calls with their streaming sides', () => {
    const svc = codecSchema().root.lookupService('swarmkit.v1.Dispatcher')
    const calls = svc.methodsArray.map((m) => [m.name, m.requestType, m.responseType, m.responseStream === true])
    expect(calls).toStrictEqual([
      ['Session', 'SessionRequest', 'SessionMessage', true],
      ['Heartbeat', 'HeartbeatRequest', 'HeartbeatResponse', false],
      ['UpdateTaskStatus', 'UpdateTaskStatusRequest', 'UpdateTaskStatusResponse', false],
      ['Assignments', 'AssignmentsRequest', 'AssignmentsMessage', true],
    ])
  })

  it('rejects an unknown message type naming the type', () => {
    expect(() => encodeDispatcherMessage('Node' as DispatcherMessageType, {})).toThrow(invalid('type'))
    expect(() => decodeDispatcherMessage('toString' as DispatcherMessageType, new Uint8Array(0))).toThrow(invalid('type'))
  })

  it('rejects an assignment with no object or with two, naming the assignment', () => {
    const none = { type: 'complete', appliesTo: '', resultsIn: '1', changes: [{ action: 'update', assignment: {} }] } as unknown as AssignmentsMessage
    expect(() => encodeDispatcherMessage('AssignmentsMessage', none)).toThrow(invalid('changes[0].assignment'))
    const two = { ...none, changes: [{ action: 'update', assignment: { task, secret: FULL.secret } }] } as unknown as AssignmentsMessage
    expect(() => encodeDispatcherMessage('AssignmentsMessage', two)).toThrow(invalid('changes[0].assignment'))
    const bytes = T('AssignmentsMessage').encode({ type: 1, changes: [{ action: 1, assignment: {} }] }).finish()
    expect(() => decodeDispatcherMessage('AssignmentsMessage', bytes)).toThrow(invalid('changes[0].assignment'))
  })

  it('rejects bad values naming the field', () => {
    const badAction = { type: 'complete', appliesTo: '', resultsIn: '1', changes: [{ action: 'delete', assignment: { task } }] } as unknown as AssignmentsMessage
    expect(() => encodeDispatcherMessage('AssignmentsMessage', badAction)).toThrow(invalid('changes[0].action'))
    expect(() => encodeDispatcherMessage('AssignmentsMessage', { ...badAction, type: 'partial' } as unknown as AssignmentsMessage)).toThrow(invalid('type'))
    expect(() => encodeDispatcherMessage('HeartbeatResponse', { periodMs: 1.5 })).toThrow(invalid('periodMs'))
    expect(() => encodeDispatcherMessage('HeartbeatRequest', { sessionId: 's', nodeId: 'n' } as never)).toThrow(invalid('nodeId'))
    const noUpdates = { sessionId: 's' } as unknown as UpdateTaskStatusRequest
    expect(() => encodeDispatcherMessage('UpdateTaskStatusRequest', noUpdates)).toThrow(invalid('updates'))
    expect(() => decodeDispatcherMessage('SessionMessage', u8(0xff))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
  })

  it('rejects a decoded message without its required node or an enum value out of range', () => {
    const noNode = T('SessionMessage').encode({ sessionId: 's' }).finish()
    expect(() => decodeDispatcherMessage('SessionMessage', noNode)).toThrow(invalid('node'))
    const badType = T('AssignmentsMessage').encode({ type: 9 }).finish()
    expect(() => decodeDispatcherMessage('AssignmentsMessage', badType)).toThrow(invalid('type'))
  })

  it('round-trips any envelope around the fixture objects (property)', () => {
    const assignment = fc.constantFrom<AssignmentChange['assignment']>({ task }, { task: MINIMAL.task }, { secret: FULL.secret }, { config: FULL.config })
    const change = fc.record({ action: fc.constantFrom<AssignmentChange['action']>('update', 'remove'), assignment }, PLAIN)
    const message = fc.record({
      type: fc.constantFrom<AssignmentsMessage['type']>('complete', 'incremental'),
      appliesTo: fc.string(),
      resultsIn: fc.string(),
      changes: fc.array(change, { maxLength: 6 }),
    }, PLAIN)
    fc.assert(
      fc.property(message, (m) => {
        expect(roundTrip('AssignmentsMessage', m)).toStrictEqual(m)
      }),
      { numRuns: 200 },
    )
    const manager = fc.record({ nodeId: fc.string(), addr: fc.string(), weight: fc.maxSafeInteger() }, PLAIN)
    const session = fc.record({
      sessionId: fc.string(),
      node: fc.constantFrom(node, MINIMAL.node),
      managers: fc.array(manager, { maxLength: 4 }),
      networkBootstrapKeys: fc.constant(sessionMessage.networkBootstrapKeys),
      rootCa: fc.uint8Array({ maxLength: 64 }),
    }, PLAIN)
    fc.assert(
      fc.property(session, (m) => {
        expect(roundTrip('SessionMessage', m)).toStrictEqual(m)
      }),
      { numRuns: 200 },
    )
  })
})
