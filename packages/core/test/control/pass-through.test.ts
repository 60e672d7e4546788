import { NotLeaderError, SequenceConflictError } from '@swarmkit-ts/api'
import { credentials } from '@swarmkit-ts/pki'
import { describe, expect, it } from 'vitest'
import type { ControlApi } from '../../src/control/control-api.ts'
import { ControlClient } from '../../src/control/control-client.ts'
import { LeaderForwardingControl, type RemoteControl } from '../../src/control/leader-forwarding.ts'
import { caught, controlRig, replicated } from './fixture.ts'
import { CLUSTER_ID, clientFor, startControlServer, twoManagers } from './grpc-fixture.ts'

describe('a follower passes control calls on to the leader', () => {
  const m = twoManagers()

  /** A leader answering from its store, a follower forwarding to it through `wrap(client)`, and a user's client of the follower. */
  async function cluster(wrap: (client: ControlClient) => RemoteControl): Promise<{ leader: ControlApi; viaFollower: ControlClient }> {
    const rig = controlRig()
    const leader = await startControlServer(m.leaderMaterial, () => rig.control)
    m.servers.push(leader)
    const fwd = new LeaderForwardingControl({
      local: () => undefined,
      leaderAddress: () => leader.address,
      connect: (address) =>
        wrap(new ControlClient({ address, credentials: credentials.forClient(m.followerMaterial, { clusterId: CLUSTER_ID }), channelOptions: credentials.channelOptions(), forwarded: true })),
    })
    m.closers.push(fwd)
    const follower = await startControlServer(m.followerMaterial, (ctx) => (ctx.forwarded ? fwd.direct() : fwd))
    m.servers.push(follower)
    const viaFollower = clientFor(follower.address, m.userMaterial)
    m.closers.push(viaFollower)
    return { leader: rig.control, viaFollower }
  }

  it('as encoded bytes: the answer and the typed errors arrive as the leader gave them', async () => {
    const passed: string[] = []
    const { leader, viaFollower } = await cluster((client) => {
      const forward = client.forwardRaw.bind(client)
      client.forwardRaw = (method, request) => {
        passed.push(method)
        return forward(method, request)
      }
      return client
    })
    const created = await viaFollower.services.create(replicated('web', 1))
    const updated = await viaFollower.services.update(created.id, replicated('web', 3), { version: created.meta.version.index })
    expect(updated).toEqual(await leader.services.get(created.id))
    expect(updated.spec.mode).toEqual({ replicated: { replicas: 3 } })
    const stale = await caught(viaFollower.services.update(created.id, replicated('web', 4), { version: created.meta.version.index }))
    expect(stale).toBeInstanceOf(SequenceConflictError)
    expect(stale).toMatchObject({ kind: 'service', id: created.id, expected: created.meta.version.index, actual: updated.meta.version.index })
    expect(passed).toEqual(['CreateService', 'UpdateService', 'UpdateService'])
  })

  it('through the typed methods when the leader client cannot pass bytes on', async () => {
    const typedOnly = (client: ControlClient): RemoteControl =>
      new Proxy(client, {
        get: (target, key) => {
          if (key === 'forwardRaw') return undefined
          const v: unknown = Reflect.get(target, key, target)
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        },
      })
    const { leader, viaFollower } = await cluster(typedOnly)
    const created = await viaFollower.services.create(replicated('api', 2))
    expect(created).toEqual(await leader.services.get('api'))
    expect(await caught(viaFollower.services.get('nope'))).toMatchObject({ name: 'NotFoundError' })
  })

  it('not while no leader is known: NotLeaderError', async () => {
    const fwd = new LeaderForwardingControl({ local: () => undefined, leaderAddress: () => undefined, connect: () => { throw new Error('no leader to connect to') } })
    m.closers.push(fwd)
    const follower = await startControlServer(m.followerMaterial, () => fwd)
    m.servers.push(follower)
    const client = clientFor(follower.address, m.userMaterial)
    m.closers.push(client)
    expect(await caught(client.services.create(replicated('web', 1)))).toBeInstanceOf(NotLeaderError)
  })
})
