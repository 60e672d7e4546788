/**
 * RaftProposer and StoreStateMachine on their own, against a scripted Raft member and a
 * MemoryStore: the error mapping and the apply path, including the cases a live cluster rarely
 * produces on demand (a full uncommitted budget, a transfer in progress, a broken entry).
 */
import { describe, expect, it } from 'vitest'
import type { RaftMemberId, Secret } from '@swarmkit-ts/api'
import { LeadershipLostError, ProposalDroppedError, RaftStoppedError } from '@swarmkit-ts/raft'
import { encodeChangeSet } from '../src/replication/change-set-codec.ts'
import { MemoryStore } from '../src/memory-store.ts'
import { LocalChangeSet, issueLocalChangeSet } from '../src/proposer.ts'
import type { ApplyResult, ChangeSet } from '../src/proposer.ts'
import { RaftProposer } from '../src/replication/raft-proposer.ts'
import type { ProposalTarget } from '../src/replication/raft-proposer.ts'
import { StoreStateMachine } from '../src/replication/store-state-machine.ts'

const ID = 'abcdefghijklmnopqrstuvwxy'
const secret: Secret = {
  id: ID,
  meta: { version: { index: 0n }, createdAt: 1, updatedAt: 1 },
  spec: { annotations: { name: 'db' }, data: Uint8Array.of(1) },
}
const createSecret: ChangeSet = { transactions: [[{ action: 'create', kind: 'secret', object: secret }]] }

/** A Raft member whose answers the test scripts. */
class ScriptedTarget implements ProposalTarget {
  isLeader = true
  leader: RaftMemberId = 1n
  readonly members = new Map<RaftMemberId, string>([
    [1n, 'm1:4242'],
    [2n, 'm2:4242'],
  ])
  readonly proposed: Uint8Array[] = []
  readonly locals: (object | undefined)[] = []
  answer: (payload: Uint8Array) => Promise<unknown> = () => Promise.resolve(undefined)
  propose(payload: Uint8Array, options?: { readonly local?: object }): Promise<unknown> {
    this.proposed.push(payload)
    this.locals.push(options?.local)
    return this.answer(payload)
  }
}

describe('RaftProposer', () => {
  it('proposes the encoded change set on the leader and resolves with the apply result', async () => {
    const target = new ScriptedTarget()
    const result: ApplyResult = { version: 9n, results: [{ ok: true }] }
    target.answer = () => Promise.resolve(result)
    const proposer = new RaftProposer(target)
    await expect(proposer.propose(createSecret)).resolves.toBe(result)
    expect(target.proposed).toStrictEqual([encodeChangeSet(createSecret)])
    expect(proposer.target).toBe(target)
  })

  it('fails fast on a follower with NotLeaderError naming the leader, proposing nothing', async () => {
    const target = new ScriptedTarget()
    target.isLeader = false
    target.leader = 2n
    await expect(new RaftProposer(target).propose(createSecret)).rejects.toMatchObject({ name: 'NotLeaderError', leaderId: 2n, leaderAddr: 'm2:4242' })
    target.leader = 3n // a leader whose address is not known (yet)
    await expect(new RaftProposer(target).propose(createSecret)).rejects.toMatchObject({ name: 'NotLeaderError', leaderId: 3n, leaderAddr: undefined })
    target.leader = 0n
    await expect(new RaftProposer(target).propose(createSecret)).rejects.toMatchObject({ name: 'NotLeaderError', leaderId: undefined, leaderAddr: undefined })
    expect(target.proposed).toStrictEqual([])
  })

  it('maps a refused entry: uncommitted budget spent → UnavailableError, lost or handed-over leadership → NotLeaderError', async () => {
    const target = new ScriptedTarget()
    const proposer = new RaftProposer(target)
    const full = new ProposalDroppedError('uncommitted-limit')
    target.answer = () => Promise.reject(full)
    await expect(proposer.propose(createSecret)).rejects.toMatchObject({ name: 'UnavailableError', cause: full })
    const transfer = new ProposalDroppedError('transfer-in-progress')
    target.answer = () => Promise.reject(transfer)
    // Still the leader, handing over: the successor is not known yet.
    await expect(proposer.propose(createSecret)).rejects.toMatchObject({ name: 'NotLeaderError', leaderId: undefined, leaderAddr: undefined, cause: transfer })
    const noLeader = new ProposalDroppedError('no-leader')
    target.answer = () => {
      target.isLeader = false
      target.leader = 2n
      return Promise.reject(noLeader)
    }
    await expect(proposer.propose(createSecret)).rejects.toMatchObject({ name: 'NotLeaderError', leaderId: 2n, leaderAddr: 'm2:4242', cause: noLeader })
  })

  it('passes LeadershipLostError and RaftStoppedError through unchanged (outcome unknown)', async () => {
    const target = new ScriptedTarget()
    const proposer = new RaftProposer(target)
    const lost = new LeadershipLostError()
    target.answer = () => Promise.reject(lost)
    await expect(proposer.propose(createSecret)).rejects.toBe(lost)
    const stopped = new RaftStoppedError()
    target.answer = () => Promise.reject(stopped)
    await expect(proposer.propose(createSecret)).rejects.toBe(stopped)
  })

  it('rejects with RaftStoppedError before a Raft member is attached, and works once attached', async () => {
    const proposer = new RaftProposer()
    await expect(proposer.propose(createSecret)).rejects.toMatchObject({ name: 'RaftStoppedError' })
    const target = new ScriptedTarget()
    proposer.attach(target)
    await expect(proposer.propose(createSecret)).resolves.toBeUndefined()
    expect(target.proposed.length).toBe(1)
  })

  it('refuses a change set that cannot be encoded, proposing nothing', async () => {
    const target = new ScriptedTarget()
    const bad = { transactions: [[{ action: 'create', kind: 'widget', object: secret }]] } as unknown as ChangeSet
    await expect(new RaftProposer(target).propose(bad)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'transactions[0][0].kind' })
    expect(target.proposed).toStrictEqual([])
  })
})

describe('StoreStateMachine', () => {
  it('applies an entry at its log index and returns the store result; snapshot and restore are the store’s', () => {
    const store = new MemoryStore()
    const sm = new StoreStateMachine(store)
    expect(sm.store).toBe(store)
    const r = sm.apply(encodeChangeSet(createSecret), { index: 7, term: 2 })
    expect(r).toStrictEqual({ version: 7n, results: [{ ok: true }] })
    expect(store.view((tx) => tx.secrets.get(ID))?.meta.version.index).toBe(7n)
    const other = new MemoryStore()
    new StoreStateMachine(other).restore(sm.snapshot())
    expect(other.snapshot()).toStrictEqual(store.snapshot())
    expect(other.version).toBe(7n)
  })

  it('throws on an entry that does not decode, or at an index the store has passed (RaftNode then stops the member)', () => {
    const sm = new StoreStateMachine(new MemoryStore())
    expect(() => sm.apply(Uint8Array.of(0x0a, 0x05), { index: 1, term: 1 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'transactions[0]' }))
    sm.apply(encodeChangeSet(createSecret), { index: 3, term: 1 })
    expect(() => sm.apply(encodeChangeSet({ transactions: [] }), { index: 3, term: 1 })).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'index' }))
  })

  it('freezes applied objects deeply and shares the parts an update left unchanged with the object it replaced', () => {
    const store = new MemoryStore()
    const sm = new StoreStateMachine(store)
    const withLabels: Secret = { ...secret, spec: { ...secret.spec, annotations: { name: 'db', labels: { tier: 'a' } } } }
    sm.apply(encodeChangeSet({ transactions: [[{ action: 'create', kind: 'secret', object: withLabels }]] }), { index: 1, term: 1 })
    const before = store.view((tx) => tx.secrets.get(ID)) as Secret
    const changed: Secret = { ...withLabels, spec: { ...withLabels.spec, data: Uint8Array.of(2) } }
    sm.apply(encodeChangeSet({ transactions: [[{ action: 'update', kind: 'secret', object: changed, expectedVersion: 1n }]] }), { index: 2, term: 1 })
    const after = store.view((tx) => tx.secrets.get(ID)) as Secret
    expect(after).toStrictEqual({ ...changed, meta: { version: { index: 2n }, createdAt: 1, updatedAt: 1 } })
    expect(after.spec.annotations).toBe(before.spec.annotations) // unchanged: the stored object's part
    expect(after.spec).not.toBe(before.spec)
    for (const part of [after, after.meta, after.meta.version, after.spec, after.spec.annotations, after.spec.annotations.labels]) expect(Object.isFrozen(part)).toBe(true)
    // A replica that decodes the same entries ends with an equal store.
    const other = new MemoryStore()
    const sm2 = new StoreStateMachine(other)
    sm2.apply(encodeChangeSet({ transactions: [[{ action: 'create', kind: 'secret', object: withLabels }]] }), { index: 1, term: 1 })
    sm2.apply(encodeChangeSet({ transactions: [[{ action: 'update', kind: 'secret', object: changed, expectedVersion: 1n }]] }), { index: 2, term: 1 })
    expect(other.snapshot()).toStrictEqual(store.snapshot())
    expect(other.checkIndexes()).toStrictEqual([])
  })

  it("applies its own change set through the store's local handle without decoding; without the handle it decodes", () => {
    const store = new MemoryStore()
    const sm = new StoreStateMachine(store)
    const payload = encodeChangeSet(createSecret)
    // As a transaction hands them over: frozen objects.
    const frozenSpec = Object.freeze({ annotations: Object.freeze({ name: 'db' }), data: Uint8Array.of(1) })
    const local: ChangeSet = { transactions: [[{ action: 'create', kind: 'secret', object: Object.freeze({ ...secret, meta: Object.freeze({ ...secret.meta, version: Object.freeze({ index: 0n }) }), spec: frozenSpec }) }]] }
    expect(encodeChangeSet(local)).toStrictEqual(payload)
    sm.apply(payload, { index: 1, term: 1 }, issueLocalChangeSet(local))
    const stored = store.view((tx) => tx.secrets.get(ID)) as Secret
    expect(stored.spec).toBe(frozenSpec) // the proposer's own object's parts, not decoded copies
    expect(stored.meta.version.index).toBe(1n)
    // Without the handle (another member, or after a restart), or with something else: decoded.
    for (const handle of [undefined, { changes: local }]) {
      const other = new MemoryStore()
      new StoreStateMachine(other).apply(payload, { index: 1, term: 1 }, handle)
      const decoded = other.view((tx) => tx.secrets.get(ID)) as Secret
      expect(decoded.spec).not.toBe(frozenSpec)
      expect(other.snapshot()).toStrictEqual(store.snapshot())
    }
  })

  it("refuses a handle of another change set, and a handle made by anyone but the store", () => {
    const store = new MemoryStore()
    const other: ChangeSet = { transactions: [] }
    expect(() => store.applyChangeSet(createSecret, 1n, issueLocalChangeSet(other))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'local' }))
    expect(store.version).toBe(0n)
    const handle = issueLocalChangeSet(createSecret)
    expect(() => {
      ;(handle as unknown as { changes: ChangeSet }).changes = other
    }).toThrow(TypeError)
    expect(handle.changes).toBe(createSecret)
    const forge = LocalChangeSet as unknown as new (changes: ChangeSet, issuer: unknown) => LocalChangeSet
    expect(() => new forge(createSecret, Symbol('LocalChangeSet issuer'))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'LocalChangeSet' }))
  })
})

describe('RaftProposer with its state machine', () => {
  it("hands the store's local handle to Raft with canonical change sets only", async () => {
    const target = new ScriptedTarget()
    const proposer = new RaftProposer(target)
    const handle = issueLocalChangeSet(createSecret)
    await proposer.propose(createSecret, handle)
    expect(target.locals).toStrictEqual([handle])
    expect(target.locals[0]).toBe(handle)
    // An empty record decodes as absent: not canonical, so this member decodes too.
    const withEmptyLabels: ChangeSet = { transactions: [[{ action: 'create', kind: 'secret', object: { ...secret, spec: { ...secret.spec, annotations: { name: 'db', labels: {} } } } }]] }
    await proposer.propose(withEmptyLabels, issueLocalChangeSet(withEmptyLabels))
    // A handle of another change set, or none: nothing to hand back.
    await proposer.propose(createSecret, issueLocalChangeSet(withEmptyLabels))
    await proposer.propose(createSecret)
    expect(target.locals).toStrictEqual([handle, undefined, undefined, undefined])
    expect(target.proposed).toStrictEqual([encodeChangeSet(createSecret), encodeChangeSet(withEmptyLabels), encodeChangeSet(createSecret), encodeChangeSet(createSecret)])
  })
})
