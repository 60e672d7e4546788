/**
 * The membership service's refusals over gRPC with mTLS (a worker's certificate, a removed node,
 * a manager joining twice, a bad address, a follower redirecting) and its wire encoding.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cryptoRandom, generateId } from '@swarmkit-ts/api'
import { credentials, type TlsMaterialSource } from '@swarmkit-ts/pki'
import { ManagerNode, MembershipClient } from '../src/manager/index.ts'
import { decodeJoinRequest, decodeJoinResponse, encodeJoinRequest, encodeJoinResponse } from '../src/manager/membership-wire.ts'
import { CLUSTER_ID, cleanupAfterEach, managerInit, managerTls, nodeTls, until } from './helpers/manager-rig.ts'

const cleanup = cleanupAfterEach()

function track(m: ManagerNode): ManagerNode {
  cleanup.push(() => m.close())
  return m
}

function client(address: string, tls: TlsMaterialSource): MembershipClient {
  const c = new MembershipClient(address, credentials.forClient(tls, { clusterId: CLUSTER_ID }), credentials.channelOptions('manager'))
  cleanup.push(() => c.close())
  return c
}

const newManager = async (): Promise<ManagerNode> => track(await ManagerNode.init(await managerInit(cleanup, generateId(cryptoRandom))))

describe('membership service refusals', () => {
  it('refuses Join from a worker certificate', async () => {
    const m = await newManager()
    const worker = await nodeTls(generateId(cryptoRandom), 'worker')
    await expect(client(m.server.address, worker).join('127.0.0.1:1')).rejects.toMatchObject({ name: 'PermissionDeniedError' })
    expect(m.members()).toHaveLength(1)
  })

  it('refuses Join from a node the cluster removed (its certificate denied)', async () => {
    const m = await newManager()
    const removed = generateId(cryptoRandom)
    await m.store.update((tx) => {
      const c = tx.clusters.find()[0]
      if (c !== undefined) tx.clusters.update(c.id, (d) => void (d.blacklistedCertificates = { [removed]: {} }))
    })
    await expect(client(m.server.address, await managerTls(removed)).join('127.0.0.1:1')).rejects.toMatchObject({ name: 'PermissionDeniedError' })
    expect(m.members()).toHaveLength(1)
  })

  it('refuses a second Join of a manager already in the group, and a Leave of a node that is not in it', async () => {
    const m1 = await newManager()
    const init2 = await managerInit(cleanup, generateId(cryptoRandom))
    track(await ManagerNode.join({ ...init2, joinAddress: m1.server.address }))
    await expect(client(m1.server.address, init2.tls).join('127.0.0.1:1')).rejects.toMatchObject({ name: 'AlreadyExistsError' })
    await expect(client(m1.server.address, await managerTls(generateId(cryptoRandom))).leave()).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(m1.members()).toHaveLength(2)
  })

  it('refuses a malformed join address, naming the field', async () => {
    const m = await newManager()
    await expect(client(m.server.address, await managerTls(generateId(cryptoRandom))).join('no-port')).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'addr' })
    expect(m.members()).toHaveLength(1)
  })

  it('a follower answers NotLeaderError naming the leader', async () => {
    const m1 = await newManager()
    const m2 = track(await ManagerNode.join({ ...(await managerInit(cleanup, generateId(cryptoRandom))), joinAddress: m1.server.address }))
    await until(() => m2.leaderAddress() === m1.server.address, 'the joiner to hear from the leader')
    await expect(client(m2.server.address, await managerTls(generateId(cryptoRandom))).join('127.0.0.1:1')).rejects.toMatchObject({ name: 'NotLeaderError', leaderAddr: m1.server.address })
  })

  it('the last manager cannot leave', async () => {
    const m = await newManager()
    await expect(m.leave()).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'last-manager' })
  })
})

const raftId = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n })

describe('membership wire', () => {
  it('round-trips join requests and responses, Raft ids exact to 64 bits', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.boolean(),
        raftId,
        fc.array(fc.record({ raftId, addr: fc.string(), nodeId: fc.string() }), { maxLength: 7 }),
        (addr, rejoin, id, members) => {
          expect(decodeJoinRequest(encodeJoinRequest({ addr, rejoin }))).toEqual({ addr, rejoin })
          expect(decodeJoinResponse(encodeJoinResponse({ raftId: id, members }))).toEqual({ raftId: id, members })
        },
      ),
    )
  })

  it('refuses bytes that are not a message, naming it', () => {
    expect(() => decodeJoinResponse(new Uint8Array([0x0a, 0x05, 0x01]))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'JoinResponse' }))
  })
})
