import { decodeDispatcherMessage, DISPATCHER_MESSAGE_TYPES, encodeDispatcherMessage } from '@swarmkit-ts/api'
import type { DispatcherMessages, DispatcherMessageType } from '@swarmkit-ts/api'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { arbAssignmentsMessage, arbDispatcherMessage, arbSessionMessage, arbUpdateTaskStatusRequest, inProcessDispatcher, ManualClock, SeededRandom } from '../src/index.ts'
import { FakeDispatcher, flush } from './dispatcher-binding-target.ts'

// Byte arrays compare by content and class (the generic deep equality is slow on large payloads).
expect.addEqualityTesters([
  (a: unknown, b: unknown): boolean | undefined => {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return undefined
    return Object.getPrototypeOf(a) === Object.getPrototypeOf(b) && Buffer.compare(a, b) === 0
  },
])

function roundTrip<K extends DispatcherMessageType>(type: K): void {
  fc.assert(
    fc.property(arbDispatcherMessage(type), (value) => {
      expect(decodeDispatcherMessage(type, encodeDispatcherMessage(type, value))).toStrictEqual(value)
    }),
    { numRuns: 200 },
  )
}

describe('dispatcher wire messages over the object arbitraries', () => {
  for (const type of DISPATCHER_MESSAGE_TYPES) {
    it(`${type} round-trips exactly (property)`, () => roundTrip(type))
  }
})

describe('inProcessDispatcher carries any message exactly', () => {
  it('any update request reaches the target equal to what was sent (property)', async () => {
    await fc.assert(
      fc.asyncProperty(arbUpdateTaskStatusRequest(), async (request) => {
        const target = new FakeDispatcher()
        const binding = inProcessDispatcher(target, { clock: new ManualClock(), random: new SeededRandom(1) })
        await binding.updateTaskStatus(request)
        expect(target.requests).toStrictEqual([{ call: 'updateTaskStatus', request }])
      }),
      { numRuns: 100 },
    )
  })

  it('any sequence of session and assignments messages arrives equal and in order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbSessionMessage(), { maxLength: 4 }), fc.array(arbAssignmentsMessage(), { maxLength: 4 }), async (sessions, assignments) => {
        const target = new FakeDispatcher()
        const binding = inProcessDispatcher(target, { clock: new ManualClock(), random: new SeededRandom(1) })
        const read = async <K extends 'SessionMessage' | 'AssignmentsMessage'>(stream: AsyncIterable<DispatcherMessages[K]>): Promise<DispatcherMessages[K][]> => {
          const out: DispatcherMessages[K][] = []
          for await (const m of stream) out.push(m)
          return out
        }
        const gotSessions = read<'SessionMessage'>(binding.session({ description: {} }))
        const gotAssignments = read<'AssignmentsMessage'>(binding.assignments({ sessionId: 's' }))
        await flush()
        for (const m of sessions) target.sessions[0]?.push(m)
        target.sessions[0]?.end()
        for (const m of assignments) target.assignmentStreams[0]?.push(m)
        target.assignmentStreams[0]?.end()
        expect(await gotSessions).toStrictEqual(sessions)
        expect(await gotAssignments).toStrictEqual(assignments)
      }),
      { numRuns: 50 },
    )
  })
})
