/**
 * Removing a manager's Node whose Raft member is gone (SwarmKit's rule, used after a forced new
 * cluster): refused with reason `manager` while `isRaftMember` says it is a member, or when the
 * hooks cannot tell; removed like a down worker (its certificate denied) when it is not.
 */
import { FailedPreconditionError, type Node } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { describe, expect, it } from 'vitest'
import { StoreControlApi } from '../../src/control/store-control-api.ts'
import { addNode, caught, controlRig, idOf, RecordingMembership, seedCluster } from './fixture.ts'

/** Membership hooks that also say which nodes are Raft members. */
class MembersKnown extends RecordingMembership {
  readonly members = new Set<string>()
  isRaftMember(node: Frozen<Node>): boolean {
    return this.members.has(node.id)
  }
}

describe('StoreControlApi nodes: a manager without a Raft member', () => {
  it('is removed without a demotion when the hooks say it is no Raft member; a member manager is refused, force or not', async () => {
    const { store, clock, random } = controlRig()
    const membership = new MembersKnown()
    const control = new StoreControlApi({ store, clock, random, membership })
    await seedCluster(store)
    const gone = await addNode(store, idOf('m2'), { role: 'manager', state: 'down' })
    const member = await addNode(store, idOf('m3'), { role: 'manager', state: 'down' })
    membership.members.add(member.id)
    const refused = await caught(control.nodes.remove(member.id, { force: true }))
    expect(refused).toBeInstanceOf(FailedPreconditionError)
    expect((refused as FailedPreconditionError).reason).toBe('manager')
    await control.nodes.remove(gone.id)
    expect((await control.nodes.list()).map((n) => n.id)).toEqual([member.id])
    expect(store.view((tx) => tx.clusters.find()[0]?.blacklistedCertificates)).toEqual({ [gone.id]: {} })
    expect(membership.calls).toEqual([`remove ${gone.id}`])
  })
})
