import { NotLeaderError } from '@swarmkit-ts/api'
import { credentials, type TlsMaterial } from '@swarmkit-ts/pki'
import { describe, expect, it } from 'vitest'
import type { ControlApi } from '../../src/control/control-api.ts'
import { ControlClient } from '../../src/control/control-client.ts'
import { LeaderForwardingControl } from '../../src/control/leader-forwarding.ts'
import { caught, controlRig, replicated, seedCluster } from './fixture.ts'
import { CLUSTER_ID, clientFor, startControlServer, twoManagers, type ControlServer } from './grpc-fixture.ts'

describe('LeaderForwardingControl between two managers over gRPC', () => {
  const m = twoManagers()

  /** A manager's server answering with `fwd` (a forwarded call only with `direct()`). */
  async function managerServer(material: TlsMaterial, fwd: LeaderForwardingControl): Promise<ControlServer> {
    const s = await startControlServer(material, (ctx) => (ctx.forwarded ? fwd.direct() : fwd))
    m.servers.push(s)
    return s
  }

  /** A forwarding control whose leader is whatever `state` says; records the addresses it connects to. */
  function forwarding(state: { local: ControlApi | undefined; leader: string | undefined }, material: TlsMaterial, connected: string[]): LeaderForwardingControl {
    const fwd = new LeaderForwardingControl({
      local: () => state.local,
      leaderAddress: () => state.leader,
      connect: (address) => {
        connected.push(address)
        return new ControlClient({ address, credentials: credentials.forClient(material, { clusterId: CLUSTER_ID }), channelOptions: credentials.channelOptions(), forwarded: true })
      },
    })
    m.closers.push(fwd)
    return fwd
  }

  it("a follower forwards writes and reads to the leader; the caller reads its own write on either manager", async () => {
    const leaderRig = controlRig()
    await seedCluster(leaderRig.store)
    const leaderState = { local: leaderRig.control as ControlApi | undefined, leader: undefined as string | undefined }
    const leader = await managerServer(m.leaderMaterial, forwarding(leaderState, m.leaderMaterial, []))
    const connected: string[] = []
    const follower = await managerServer(m.followerMaterial, forwarding({ local: undefined, leader: leader.address }, m.followerMaterial, connected))
    const viaFollower = clientFor(follower.address, m.userMaterial)
    const viaLeader = clientFor(leader.address, m.userMaterial)
    m.closers.push(viaFollower, viaLeader)

    const s = await viaFollower.services.create(replicated('web', 2))
    expect(leaderRig.store.view((tx) => tx.services.get(s.id))?.spec.annotations.name).toBe('web')
    expect(await viaFollower.services.get('web')).toEqual(s)
    expect(await viaLeader.services.get(s.id)).toEqual(s)
    expect((await viaFollower.rotateJoinToken('worker')).worker).toBe((await viaLeader.joinTokens()).worker)
    expect(connected).toEqual([leader.address])

    const since = leaderRig.store.version
    await viaLeader.networks.create({ annotations: { name: 'backend' } })
    const ac = new AbortController()
    const seen: string[] = []
    for await (const ev of viaFollower.watch({ kinds: ['network'] }, { signal: ac.signal, since })) {
      if (ev.action !== 'commit' && ev.kind === 'network') seen.push(`${ev.action} ${ev.object.spec.annotations.name}`)
      ac.abort()
    }
    expect(seen).toEqual(['create backend'])
  })

  it('follows a leader change: the next call goes to the new leader through a new client', async () => {
    const first = controlRig()
    const second = controlRig()
    const a = await managerServer(m.leaderMaterial, forwarding({ local: first.control, leader: undefined }, m.leaderMaterial, []))
    const b = await managerServer(m.userMaterial, forwarding({ local: second.control, leader: undefined }, m.userMaterial, []))
    const state = { local: undefined as ControlApi | undefined, leader: a.address as string | undefined }
    const connected: string[] = []
    const fwd = forwarding(state, m.followerMaterial, connected)
    await fwd.services.create(replicated('one', 1))
    state.leader = b.address
    await fwd.services.create(replicated('two', 1))
    expect(first.store.view((tx) => tx.services.find().map((s) => s.spec.annotations.name))).toEqual(['one'])
    expect(second.store.view((tx) => tx.services.find().map((s) => s.spec.annotations.name))).toEqual(['two'])
    expect(connected).toEqual([a.address, b.address])
    state.local = first.control
    expect((await fwd.services.list()).map((s) => s.spec.annotations.name)).toEqual(['one'])
    expect(connected).toHaveLength(2)
  })

  it('refuses with NotLeaderError while no leader is known, and never forwards a forwarded call again', async () => {
    const state = { local: undefined as ControlApi | undefined, leader: undefined as string | undefined }
    const fwd = forwarding(state, m.followerMaterial, [])
    const unknown = await caught(fwd.services.list())
    expect(unknown).toBeInstanceOf(NotLeaderError)
    expect((unknown as NotLeaderError).leaderAddr).toBeUndefined()
    const follower = await managerServer(m.followerMaterial, fwd)
    state.leader = '127.0.0.1:1'
    const forwardedClient = new ControlClient({
      address: follower.address,
      credentials: credentials.forClient(m.userMaterial, { clusterId: CLUSTER_ID }),
      channelOptions: credentials.channelOptions(),
      forwarded: true,
    })
    m.closers.push(forwardedClient)
    const refused = await caught(forwardedClient.services.list())
    expect(refused).toBeInstanceOf(NotLeaderError)
    expect((refused as NotLeaderError).leaderAddr).toBe('127.0.0.1:1')
  })

  it('after close a follower refuses calls with NotLeaderError', async () => {
    const leaderRig = controlRig()
    const leader = await managerServer(m.leaderMaterial, forwarding({ local: leaderRig.control, leader: undefined }, m.leaderMaterial, []))
    const fwd = forwarding({ local: undefined, leader: leader.address }, m.followerMaterial, [])
    expect(await fwd.services.list()).toEqual([])
    fwd.close()
    expect(await caught(fwd.services.list())).toBeInstanceOf(NotLeaderError)
  })
})
