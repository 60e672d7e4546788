/**
 * Sessions and heartbeats: registration and the first session message, resuming a session, the
 * heartbeat period, the registration limit, `session-invalid`, and ending a session with the signal.
 */
import { FailedPreconditionError, GrpcStatus, NodeState, UnavailableError } from '@swarmkit-ts/api'
import { expect } from 'vitest'
import type { Checks } from './harness.ts'

/** Checks that `err` is `FailedPreconditionError` with reason `session-invalid`. */
export function expectSessionInvalid(err: unknown): void {
  expect(err).toBeInstanceOf(FailedPreconditionError)
  expect(err).toMatchObject({ name: 'FailedPreconditionError', code: GrpcStatus.FAILED_PRECONDITION, reason: 'session-invalid' })
}

/** The sessions and heartbeats checks, by test name. */
export const SESSION_CHECKS: Checks = {
  'registers the node: the first session message names the session and carries the node as stored': async (h) => {
    const nodeId = h.id('node')
    const stream = h.target.api(nodeId).session({ description: { hostname: 'w1', platform: { os: 'linux', architecture: 'x86_64' } } })[Symbol.asyncIterator]()
    const first = await h.next('the first session message', stream)
    expect(typeof first.sessionId).toBe('string')
    expect(first.sessionId).not.toBe('')
    expect(first.node.id).toBe(nodeId)
    expect(first.node.status.state).toBe(NodeState.READY)
    expect(first.node.description).toStrictEqual({ hostname: 'w1', platform: { os: 'linux', architecture: 'x86_64' } })
    expect(Array.isArray(first.managers)).toBe(true)
    expect(Array.isArray(first.networkBootstrapKeys)).toBe(true)
    expect(first.rootCa).toBeInstanceOf(Uint8Array)
    const stored = h.store.view((tx) => tx.nodes.get(nodeId))
    expect(stored?.status.state).toBe(NodeState.READY)
    expect(first.node).toStrictEqual(stored)
    await stream.return?.()
  },

  'resumes the live session it is asked to resume': async (h) => {
    const nodeId = h.id('node')
    const { sessionId, stream } = await h.register(nodeId)
    const again = h.target.api(nodeId).session({ description: { hostname: 'worker' }, sessionId })[Symbol.asyncIterator]()
    const first = await h.next('the first message of the resumed session', again)
    expect(first.sessionId).toBe(sessionId)
    await again.return?.()
    await stream.return?.()
  },

  'answers a heartbeat of the live session with the period, jittered by at most 0.5 s': async (h) => {
    const nodeId = h.id('node')
    const { sessionId, stream } = await h.register(nodeId)
    const r = await h.settle('the heartbeat', h.target.api(nodeId).heartbeat({ sessionId }))
    if ('error' in r) throw r.error
    expect(Object.keys(r.value)).toStrictEqual(['periodMs'])
    expect(Number.isSafeInteger(r.value.periodMs)).toBe(true)
    expect(Math.abs(r.value.periodMs - h.heartbeatPeriodMs)).toBeLessThanOrEqual(500)
    await stream.return?.()
  },

  'refuses a heartbeat of an unknown session with session-invalid': async (h) => {
    const nodeId = h.id('node')
    const { stream } = await h.register(nodeId)
    expectSessionInvalid(await h.rejection('the heartbeat', h.target.api(nodeId).heartbeat({ sessionId: 'not-a-session' })))
    // Another node's session is not this node's either.
    const other = await h.register(h.id('node'))
    expectSessionInvalid(await h.rejection('the heartbeat', h.target.api(nodeId).heartbeat({ sessionId: other.sessionId })))
    await stream.return?.()
    await other.stream.return?.()
  },

  'refuses a node that registers more than 3 times again within 8 s with UnavailableError': async (h) => {
    const nodeId = h.id('node')
    const streams: AsyncIterator<unknown>[] = []
    for (let i = 0; i < 4; i++) streams.push((await h.register(nodeId)).stream)
    const fifth = h.target.api(nodeId).session({ description: { hostname: 'worker' } })[Symbol.asyncIterator]()
    const err = await h.rejection('the fifth registration', fifth.next())
    expect(err).toBeInstanceOf(UnavailableError)
    expect(err).toMatchObject({ name: 'UnavailableError', code: GrpcStatus.UNAVAILABLE })
    for (const s of streams) await s.return?.()
  },

  'ends the session stream without an error when the signal aborts; the node is then disconnected and its session invalid': async (h) => {
    const nodeId = h.id('node')
    const ac = new AbortController()
    const stream = h.target.api(nodeId).session({ description: { hostname: 'w' } }, { signal: ac.signal })[Symbol.asyncIterator]()
    const { sessionId } = await h.next('the first session message', stream)
    ac.abort()
    expect(await h.end('the session stream', stream)).toStrictEqual({ done: true })
    await h.until('the node DISCONNECTED', () => (h.store.view((tx) => tx.nodes.get(nodeId))?.status.state === NodeState.DISCONNECTED ? true : undefined))
    expectSessionInvalid(await h.rejection('the heartbeat', h.target.api(nodeId).heartbeat({ sessionId })))
  },

  'a signal aborted before the stream starts ends it without registering': async (h) => {
    const nodeId = h.id('node')
    const ac = new AbortController()
    ac.abort()
    const stream = h.target.api(nodeId).session({ description: {} }, { signal: ac.signal })[Symbol.asyncIterator]()
    expect(await h.end('the session stream', stream)).toStrictEqual({ done: true })
    expect(h.store.view((tx) => tx.nodes.get(nodeId))).toBeUndefined()
  },
}
