/**
 * The driver's incarnation bookkeeping (src/member-identity.ts) and its encodings: binding
 * entries, snapshots, and the two message fields on the wire.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemberIdentityError, decodeMessage, encodeMessage } from '../src/index.ts'
import type { Message } from '../src/index.ts'
import { MemberIdentities } from '../src/driver/member-identity.ts'
import { decodeIncarnationEntry, decodeNodeSnapshot, decodeProposals, encodeIncarnationEntry, encodeNodeSnapshot, encodeProposal, isIncarnationEntry } from '../src/driver/raft-node-codec.ts'

const hb = (from: bigint, to: bigint, extra: Partial<Message> = {}): Message => ({ type: 'heartbeat', from, to, term: 2, commit: 0, context: new Uint8Array(0), ...extra }) as Message

describe('MemberIdentities', () => {
  it('stamps our incarnation and the recipient\'s bound one; a relayed message gets the bound one of its sender', () => {
    const ids = new MemberIdentities(1n, 0xaan)
    ids.restore(new Map([[1n, 0xaan], [2n, 0xbbn]]))
    const msgs = [hb(1n, 2n), hb(1n, 3n, { toIncarnation: 0x99n }), hb(2n, 3n, { fromIncarnation: 0x77n }), hb(3n, 2n, { fromIncarnation: 0x77n })]
    ids.stamp(msgs)
    expect(msgs.map((m) => [m.fromIncarnation, m.toIncarnation])).toEqual([
      [0xaan, 0xbbn],
      [0xaan, undefined],
      [0xbbn, undefined],
      [undefined, 0xbbn],
    ])
    expect(msgs.map((m) => Object.keys(m).filter((k) => k.endsWith('Incarnation')).sort())).toEqual([['fromIncarnation', 'toIncarnation'], ['fromIncarnation'], ['fromIncarnation'], ['toIncarnation']])
  })

  it('accepts unbound senders, refuses a bound sender under another incarnation (reported once per pair), and knows when it is the one that lost its state', () => {
    const ids = new MemberIdentities(1n, 0xaan)
    expect(ids.check(hb(2n, 1n, { fromIncarnation: 0x5n }))).toEqual({ kind: 'accept' })
    ids.restore(new Map([[2n, 0xbbn]]))
    expect(ids.check(hb(2n, 1n, { fromIncarnation: 0xbbn, toIncarnation: 0xaan }))).toEqual({ kind: 'accept' })
    expect(ids.check(hb(2n, 1n, { fromIncarnation: 0xccn }))).toEqual({ kind: 'refuse', incarnation: 0xccn, first: true })
    expect(ids.check(hb(2n, 1n, { fromIncarnation: 0xccn }))).toEqual({ kind: 'refuse', incarnation: 0xccn, first: false })
    expect(ids.check(hb(2n, 1n))).toEqual({ kind: 'refuse', incarnation: 0n, first: true })
    const lost = ids.check(hb(3n, 1n, { toIncarnation: 0x1n }))
    expect(lost.kind).toBe('lost')
    expect(lost.kind === 'lost' && lost.error).toMatchObject({ name: 'MemberIdentityError', memberId: 1n, boundIncarnation: 0x1n, incarnation: 0xaan })
    // A storage without an incarnation is not the member the cluster bound either.
    expect(new MemberIdentities(1n, 0n).check(hb(3n, 1n, { toIncarnation: 0x1n })).kind).toBe('lost')
  })

  it('as leader, proposes itself and each member heard from once, again after a refusal, and forgets it all on losing leadership', () => {
    const ids = new MemberIdentities(1n, 0xaan)
    ids.check(hb(2n, 1n, { fromIncarnation: 0xbbn }))
    expect(ids.takeProposal()).toBeUndefined() // not leading: nothing noted
    ids.setLeading(true)
    ids.check(hb(2n, 1n, { fromIncarnation: 0xbbn }))
    ids.check(hb(2n, 1n, { fromIncarnation: 0xb2n })) // not bound yet: the first heard stays
    ids.check(hb(3n, 1n)) // no incarnation: nothing to bind
    const p = ids.takeProposal()
    expect(p?.ids).toEqual([1n, 2n])
    expect(decodeIncarnationEntry(p?.data ?? new Uint8Array(0))).toEqual(new Map([[1n, 0xaan], [2n, 0xbbn]]))
    expect(ids.takeProposal()).toBeUndefined()
    ids.proposalFailed([2n])
    expect(ids.takeProposal()?.ids).toEqual([2n])
    ids.apply(encodeIncarnationEntry(new Map([[2n, 0xbbn]])))
    ids.check(hb(2n, 1n, { fromIncarnation: 0xbbn }))
    expect(ids.takeProposal()).toBeUndefined()
    ids.check(hb(4n, 1n, { fromIncarnation: 0x4n }))
    ids.setLeading(false)
    expect(ids.takeProposal()).toBeUndefined()
  })

  it('the first binding of a member wins; binding this member to another incarnation throws MemberIdentityError', () => {
    const ids = new MemberIdentities(1n, 0xaan)
    ids.apply(encodeIncarnationEntry(new Map([[2n, 0xbbn]])))
    ids.apply(encodeIncarnationEntry(new Map([[2n, 0xccn], [1n, 0xaan]])))
    expect(ids.bound).toEqual(new Map([[2n, 0xbbn], [1n, 0xaan]]))
    const other = new MemberIdentities(1n, 0xddn)
    expect(() => other.apply(encodeIncarnationEntry(new Map([[1n, 0xaan]])))).toThrow(MemberIdentityError)
    expect(() => new MemberIdentities(1n, 0xddn).restore(new Map([[1n, 0xaan]]))).toThrow(MemberIdentityError)
  })
})

describe('incarnation encodings', () => {
  const u64 = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n })

  it('binding entries round-trip, and are told apart from every application proposal', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(u64, u64), { selector: ([id]) => id, minLength: 1, maxLength: 5 }), fc.uint8Array({ maxLength: 20 }), (pairs, payload) => {
        const data = encodeIncarnationEntry(new Map(pairs))
        expect(isIncarnationEntry(data)).toBe(true)
        expect(decodeIncarnationEntry(data)).toEqual(new Map(pairs))
        expect(isIncarnationEntry(encodeProposal({ requestId: new Uint8Array(16), payload }))).toBe(false)
        expect(decodeProposals(encodeProposal({ requestId: new Uint8Array(0), payload }))[0]?.payload).toEqual(payload)
      }),
    )
  })

  it('snapshots carry the bindings (none when encoded without)', () => {
    const bound = new Map([[3n, 0xffffffffffffffffn], [(1n << 63n) + 1n, 1n]])
    expect(decodeNodeSnapshot(encodeNodeSnapshot({ members: new Map(), state: new Uint8Array(0), sessions: new Map(), incarnations: bound })).incarnations).toEqual(bound)
    expect(decodeNodeSnapshot(encodeNodeSnapshot({ members: new Map(), state: new Uint8Array(0), sessions: new Map() })).incarnations).toEqual(new Map())
  })

  it('messages carry both incarnations exactly over the full 64 bits, and stay without them when unset', () => {
    fc.assert(
      fc.property(fc.option(u64, { nil: undefined }), fc.option(u64, { nil: undefined }), (from, to) => {
        const m: Message = { type: 'app-resp', from: 1n, to: 2n, term: 3, index: 4, reject: false, rejectHint: 0, logTerm: 0 }
        if (from !== undefined) m.fromIncarnation = from
        if (to !== undefined) m.toIncarnation = to
        expect(decodeMessage(encodeMessage(m))).toEqual(m)
      }),
    )
  })
})
