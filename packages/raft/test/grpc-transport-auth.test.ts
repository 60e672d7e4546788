/**
 * Regression tests: the raft port over mutual TLS accepts raft traffic only from manager
 * certificates of this cluster, speaking as the member bound to the certificate's node. Real
 * grpc-js, real certificates issued by @swarmkit-ts/pki, and a real 3-member RaftNode cluster.
 */
import { Client, Metadata, type ServiceError } from '@grpc/grpc-js'
import type { RaftMemberId } from '@swarmkit-ts/api'
import { createCsr, credentials, generateNodeKey, RootCA, TlsMaterialSource, type TlsMaterial } from '@swarmkit-ts/pki'
import { beforeAll, describe, expect, it } from 'vitest'
import { GrpcRaftTransport, type GrpcRaftTransportInit } from '../src/transport/grpc-transport.ts'
import { authorizeClusterManagers, subjectValues, type RaftAuthorizer } from '../src/transport/grpc-transport-auth.ts'
import { SEND_SNAPSHOT_PATH, STREAM_PATH, deserializeSnapshotAck, deserializeStreamAck, originMetadata, serializeChunk, serializeEnvelope, statusError, type OutboundChunk } from '../src/transport/grpc-transport-wire.ts'
import { encodeMessage, messageToWire } from '../src/transport/message-codec.ts'
import { MemoryRaftStorage, RaftNode, RaftRole, type StateMachine } from '../src/index.ts'
import type { Message, SnapshotMessage } from '../src/core/types.ts'
import { until, cleanupAfterEach } from './helpers/real-time.ts'

const CLUSTER = 'cluster-a'
const M1 = 0x1111n
const M2 = (1n << 64n) - 2n
const M3 = 0x3333n
/** Node IDs (certificate CNs) of the managers, and the raft member each is bound to. */
const NODE_OF: ReadonlyMap<RaftMemberId, string> = new Map([[M1, 'node-m1'], [M2, 'node-m2'], [M3, 'node-m3']])

interface Issued {
  material: TlsMaterial
}

let ca: RootCA
const certs = new Map<string, Issued>()

async function issue(name: string, nodeId: string, role: 'manager' | 'worker', clusterId: string): Promise<void> {
  const key = await generateNodeKey()
  const cert = await ca.issue(await createCsr(key), { nodeId, role, clusterId })
  certs.set(name, { material: { keyPem: key.keyPem, certChainPem: cert.chainPem, trustBundlePem: ca.certPem } })
}

function material(name: string): TlsMaterial {
  const c = certs.get(name)
  if (c === undefined) throw new Error(`no certificate ${name}`)
  return c.material
}

beforeAll(async () => {
  ca = await RootCA.create()
  await issue('m1', 'node-m1', 'manager', CLUSTER)
  await issue('m2', 'node-m2', 'manager', CLUSTER)
  await issue('m3', 'node-m3', 'manager', CLUSTER)
  await issue('worker', 'node-w1', 'worker', CLUSTER)
  await issue('foreign', 'node-m2', 'manager', 'cluster-b')
}, 60_000)

/** What core does: a manager of this cluster, and its node ID bound to the member it claims. */
const boundManagers: RaftAuthorizer = authorizeClusterManagers({
  bind: (call) => {
    const cn = subjectValues(call.peerCertificate.subject, 'CN')
    return cn.length === 1 && cn[0] === NODE_OF.get(call.claimedId) ? { allowed: true } : { allowed: false, reason: `node ${cn.join(',')} is not member ${call.claimedId}` }
  },
})

const cleanup = cleanupAfterEach()

function mtls(id: RaftMemberId, cert: string, init: Partial<GrpcRaftTransportInit> = {}): GrpcRaftTransport {
  const t = new GrpcRaftTransport({
    id,
    listenAddress: '127.0.0.1:0',
    serverCredentials: credentials.forServer(material(cert)),
    channelCredentials: credentials.forClient(material(cert), { clusterId: CLUSTER }),
    channelOptions: credentials.channelOptions('manager'),
    backoff: { initialMs: 50, maxMs: 200 },
    ...init,
  })
  cleanup.push(() => t.stop())
  return t
}

function client(address: string, cert: string): Client {
  const c = new Client(address, credentials.forClient(material(cert)), credentials.channelOptions('manager'))
  cleanup.push(() => c.close())
  return c
}

type Outcome = { ok: true; value: unknown } | { ok: false; code: number; error: Error }

function streamCall(c: Client, claimed: RaftMemberId | undefined, batches: Message[][]): Promise<Outcome> {
  return new Promise((resolve) => {
    const md = claimed === undefined ? new Metadata() : originMetadata(claimed, 'attacker.example:1')
    const s = c.makeClientStreamRequest<readonly Uint8Array[], unknown>(STREAM_PATH, serializeEnvelope, deserializeStreamAck, md, {}, (err: ServiceError | null, value) => {
      resolve(err === null ? { ok: true, value } : { ok: false, code: err.code, error: statusError(err) })
    })
    for (const b of batches) s.write(b.map(encodeMessage))
    s.end()
  })
}

function snapshotCall(c: Client, claimed: RaftMemberId, m: SnapshotMessage): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = c.makeClientStreamRequest<OutboundChunk, unknown>(SEND_SNAPSHOT_PATH, serializeChunk, deserializeSnapshotAck, originMetadata(claimed, 'a.example:1'), {}, (err: ServiceError | null, value) => {
      resolve(err === null ? { ok: true, value } : { ok: false, code: err.code, error: statusError(err) })
    })
    s.write({ header: messageToWire({ ...m, snapshot: { ...m.snapshot, data: new Uint8Array(0) } }), totalBytes: m.snapshot.data.length, data: m.snapshot.data })
    s.end()
  })
}

const PERMISSION_DENIED = 7
const denied = { ok: false, code: PERMISSION_DENIED, error: expect.objectContaining({ name: 'PermissionDeniedError' }) as Error }
const timeoutNow = (from: RaftMemberId, to: RaftMemberId): Message => ({ type: 'timeout-now', from, to, term: 9 })
const snap = (from: RaftMemberId, to: RaftMemberId): SnapshotMessage => ({
  type: 'snapshot', from, to, term: 9,
  snapshot: { metadata: { index: 50, term: 9, confState: { voters: [M1, M2, M3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array([1, 2, 3]) },
})

async function follower(authorize?: RaftAuthorizer): Promise<{ t: GrpcRaftTransport; got: Message[] }> {
  const t = mtls(M1, 'm1', authorize === undefined ? {} : { authorize })
  const got: Message[] = []
  await t.start({ message: (m) => got.push(m) })
  return { t, got }
}

describe('GrpcRaftTransport over mutual TLS: who may speak raft', () => {
  it('default: refuses a worker certificate sending a timeout-now with a forged from, and its snapshots', async () => {
    const f = await follower()
    const c = client(f.t.address, 'worker')
    expect(await streamCall(c, M2, [[timeoutNow(M2, M1)]])).toEqual(denied)
    expect(await snapshotCall(c, M2, snap(M2, M1))).toEqual(denied)
    expect(f.got).toEqual([])
    expect(f.t.stats().refusedCalls).toBe(2)
  })

  it('default: refuses a manager certificate of another cluster', async () => {
    const f = await follower()
    const c = client(f.t.address, 'foreign')
    expect(await streamCall(c, M2, [[timeoutNow(M2, M1)]])).toEqual(denied)
    expect(await snapshotCall(c, M2, snap(M2, M1))).toEqual(denied)
    expect(f.got).toEqual([])
  })

  it('default: accepts a manager of this cluster, whose messages must all come from the member its call names', async () => {
    const f = await follower()
    const c = client(f.t.address, 'm2')
    const hb: Message = { type: 'heartbeat', from: M2, to: M1, term: 9, commit: 0, context: new Uint8Array(0) }
    expect(await streamCall(c, M2, [[hb]])).toEqual({ ok: true, value: { delivered: 1 } })
    // A batch with one message from another member is refused whole.
    expect(await streamCall(c, M2, [[hb, timeoutNow(M3, M1)]])).toEqual(denied)
    expect(await streamCall(c, undefined, [[hb]])).toEqual(denied)
    expect(f.got).toEqual([hb])
  })

  it('default with renewable credentials (a TlsMaterialSource): the cluster still comes from the current server certificate', async () => {
    const t = mtls(M1, 'm1', { serverCredentials: credentials.forServer(new TlsMaterialSource(material('m1'))) })
    const got: Message[] = []
    await t.start({ message: (m) => got.push(m) })
    expect(await streamCall(client(t.address, 'worker'), M2, [[timeoutNow(M2, M1)]])).toEqual(denied)
    expect(await streamCall(client(t.address, 'foreign'), M2, [[timeoutNow(M2, M1)]])).toEqual(denied)
    expect(await streamCall(client(t.address, 'm2'), M2, [[timeoutNow(M2, M1)]])).toEqual({ ok: true, value: { delivered: 1 } })
    expect(got).toEqual([timeoutNow(M2, M1)])
  })

  it('bound: refuses a manager certificate of node X claiming member Y, or sending from Y', async () => {
    const f = await follower(boundManagers)
    const c = client(f.t.address, 'm2') // node-m2 is bound to M2
    // Claims M3 on the call: the certificate is not M3's.
    expect(await streamCall(c, M3, [[timeoutNow(M3, M1)]])).toEqual(denied)
    expect(await snapshotCall(c, M3, snap(M3, M1))).toEqual(denied)
    // Claims M2 (its own) but the message says M3.
    expect(await streamCall(c, M2, [[timeoutNow(M3, M1)]])).toEqual(denied)
    expect(await snapshotCall(c, M2, snap(M3, M1))).toEqual(denied)
    expect(f.got).toEqual([])
    // Its own member: accepted.
    expect(await streamCall(c, M2, [[timeoutNow(M2, M1)]])).toEqual({ ok: true, value: { delivered: 1 } })
    expect(await snapshotCall(c, M2, snap(M2, M1))).toEqual({ ok: true, value: { receivedBytes: 3 } })
    expect(f.got.map((m) => [m.type, m.from])).toEqual([['timeout-now', M2], ['snapshot', M2]])
  })

  it("takes the cluster from the server's own certificate, and refuses every call when it has none and no clusterId", async () => {
    const f = await follower(authorizeClusterManagers())
    // Own TLS server: the cluster comes from its certificate, so m2 is accepted…
    const ok = await streamCall(client(f.t.address, 'm2'), M2, [[timeoutNow(M2, M1)]])
    expect(ok).toEqual({ ok: true, value: { delivered: 1 } })
    // …while the same authorizer without a local certificate refuses.
    const verdict = authorizeClusterManagers()({ kind: 'stream', claimedId: M2, peerCertificate: undefined, localCertificate: undefined, peerAddress: 'x' })
    expect(verdict.allowed).toBe(false)
  })

  it('a 3-member cluster over mTLS elects and commits; a worker forging the leader in a timeout-now to a follower changes nothing', async () => {
    const ids = [M1, M2, M3]
    const names = ['m1', 'm2', 'm3']
    const transports = ids.map((id, i) => mtls(id, names[i] as string, { authorize: boundManagers }))
    // Port 0: each binds first, then the cluster is bootstrapped with the real addresses.
    const addresses = await Promise.all(transports.map((t) => t.listen()))
    const applied = ids.map(() => [] as string[])
    const nodes = ids.map((id, i) => {
      const sm: StateMachine = {
        apply: (payload) => {
          applied[i]?.push(Buffer.from(payload).toString())
          return undefined
        },
        snapshot: () => new Uint8Array(0),
        restore: () => {},
      }
      const node = new RaftNode({ id, storage: new MemoryRaftStorage(), transport: transports[i] as GrpcRaftTransport, stateMachine: sm, tickMs: 20, electionTick: 10 })
      node.bootstrap(ids.map((p, j) => ({ id: p, address: addresses[j] as string })))
      cleanup.push(() => node.stop())
      return node
    })
    await Promise.all(nodes.map((n) => n.start()))
    const leader = await (nodes[0] as RaftNode).waitForLeader()
    await nodes.find((n) => n.id === leader)?.propose(Buffer.from('one'))
    const follower = nodes.find((n) => n.id !== leader && n.role === RaftRole.follower) as RaftNode
    const fi = nodes.indexOf(follower)
    const term = follower.status().hardState.term

    // The attack: a worker certificate, speaking as the leader, tells the follower to campaign.
    const attacker = client(addresses[fi] as string, 'worker')
    expect(await streamCall(attacker, leader, [[timeoutNow(leader, follower.id)]])).toEqual(denied)
    // A manager of another cluster claiming the leader is refused too.
    expect(await streamCall(client(addresses[fi] as string, 'foreign'), leader, [[{ ...timeoutNow(leader, follower.id), term }]])).toEqual(denied)
    // A manager of this cluster (bound to another member) forging the leader as sender.
    const otherManager = names[ids.findIndex((id) => id !== leader && id !== follower.id)] as string
    expect(await streamCall(client(addresses[fi] as string, otherManager), leader, [[{ ...timeoutNow(leader, follower.id), term }]])).toEqual(denied)

    // Nothing reached the follower's state machine: same term, same leader, still a follower.
    expect(follower.status().hardState.term).toBe(term)
    expect(follower.leader).toBe(leader)
    expect(follower.role).toBe(RaftRole.follower)
    expect((transports[fi] as GrpcRaftTransport).stats().refusedCalls).toBe(3)
    // And the cluster still commits.
    await nodes.find((n) => n.id === leader)?.propose(Buffer.from('two'))
    await until(() => applied.every((a) => a.includes('two')), 'every member applied the second write')
    for (const a of applied) expect(a.filter((x) => x === 'one' || x === 'two')).toEqual(['one', 'two'])
  }, 60_000)
})
