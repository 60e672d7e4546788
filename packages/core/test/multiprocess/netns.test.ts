/**
 * As root: three managers and two workers as five processes, each in its own network namespace
 * with its own address on a private /24 (veth pairs to a bridge in a "switch" namespace, made and
 * removed by the test). They listen and advertise on those addresses and join through m1's, so
 * anything that assumes one host (127.0.0.1 as a node's or a manager's address, an address taken
 * from the wrong place) shows. The test drives the cluster only through the managers' unix
 * control sockets and leaves the host's namespaces and links as it found them.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { NodeState, TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import type { ControlClient } from '../../src/index.ts'
import { controlOf, hostLinkNames, NetnsRig, netnsNames, nodeIn, NODE_PORT, type NetnsNode } from './netns-rig.ts'
import { total, until } from './processes.ts'

const REPLICAS = 30
/** The nodes and the host part of their addresses. */
const TOPOLOGY = [['m1', 11], ['m2', 12], ['m3', 13], ['w1', 21], ['w2', 22]] as const

const web: ServiceSpec = {
  annotations: { name: 'web' },
  mode: { replicated: { replicas: REPLICAS } },
  task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'] } },
}

/** busybox httpd on the worker (its 'process' runtime allocates the port, in `PORT`), published in host mode. */
const www: ServiceSpec = {
  annotations: { name: 'www' },
  mode: { replicated: { replicas: 1 } },
  task: {
    container: { image: 'busybox', command: ['sh', '-c', 'mkdir -p www && echo "hello from the task" > www/index.html && exec httpd -f -p "$PORT" -h www'], stopGracePeriodMs: 1000 },
    placement: { constraints: ['node.role == worker'] },
  },
  endpoint: { ports: [{ targetPort: 8080, publishMode: 'host' }] },
}

const isRoot = process.getuid?.() === 0
const LOCAL_ADDRESS = new URL('../../src/net/local-address.ts', import.meta.url).pathname

/** Tasks of `serviceId` RUNNING with desired state RUNNING, by node id. */
async function runningByNode(control: ControlClient, serviceId: string): Promise<Map<string, number>> {
  const tasks = await control.tasks.list({ serviceIds: [serviceId], desiredStates: [TaskState.RUNNING] })
  const byNode = new Map<string, number>()
  for (const t of tasks) if (t.status.state === TaskState.RUNNING) byNode.set(t.nodeId, (byNode.get(t.nodeId) ?? 0) + 1)
  return byNode
}

/** The host of a `host:port` address. */
const hostOf = (address: string): string => address.slice(0, address.lastIndexOf(':'))

/** The manager the node list names leader, as `control` sees it. */
async function leaderOf(control: ControlClient, managers: readonly NetnsNode[]): Promise<NetnsNode | undefined> {
  const leader = (await control.nodes.list({ roles: ['manager'] })).find((n) => n.managerStatus?.leader === true)
  return managers.find((m) => m.ready.nodeId === leader?.id)
}

describe('the 3+2 cluster across network namespaces (root)', () => {
  const rig = new NetnsRig()

  it.skipIf(!isRoot)('five nodes in five namespaces (one manager given no address) are known by their own addresses; 30 replicas spread over all five; after kill -9 of the leader a new one is elected, its tasks replaced, and it rejoins from its namespace; a worker knows the managers by those addresses and reconnects through them (skipped when not root: it makes namespaces and veths)', async () => {
    const topo = await rig.createTopology(TOPOLOGY)
    // Other root tests make namespaces in parallel: look at ours (named with the topology's suffix).
    const ours = (names: readonly string[]): string[] => names.filter((n) => n.endsWith(`-${topo.suffix}`))
    expect(ours(await netnsNames())).toEqual([...topo.namespaces].sort())
    expect(ours(await hostLinkNames())).toEqual([]) // every veth was made inside the namespaces

    const m1 = await rig.init('m1')
    const m2 = await rig.join('m2', m1, 'manager')
    const m3 = await rig.join('m3', m1, 'manager', [], true) // no address given: it finds its own
    const [w1, w2] = await Promise.all([rig.join('w1', m1, 'worker'), rig.join('w2', m1, 'worker')])
    const managers = [m1, m2, m3]
    const all = [...managers, w1, w2]
    expect(all.map((n) => n.ready.role)).toEqual(['manager', 'manager', 'manager', 'worker', 'worker'])
    expect(managers.map((m) => hostOf(m.ready.address))).toEqual(managers.map((m) => m.ns.ip))
    expect([w1, w2].map((w) => w.ready.address)).toEqual([w1.ns.ip, w2.ns.ip]) // a worker's address for published ports

    // Every node READY, each seen from its own namespace's address; managers' Raft addresses their own.
    await until(async () => (await controlOf(m1).nodes.list()).filter((n) => n.status.state === NodeState.READY).length === 5, 'five nodes ready')
    for (const m of managers) {
      const nodes = await controlOf(m).nodes.list()
      const byId = new Map(nodes.map((n) => [n.id, n]))
      expect(all.map((n) => byId.get(n.ready.nodeId)?.status.addr)).toEqual(all.map((n) => n.ns.ip))
      expect(new Set(nodes.map((n) => n.status.addr)).size).toBe(5)
      expect(managers.map((x) => byId.get(x.ready.nodeId)?.managerStatus?.addr)).toEqual(managers.map((x) => x.ready.address))
      expect([w1, w2].map((w) => byId.get(w.ready.nodeId)?.managerStatus)).toEqual([undefined, undefined])
    }

    // A service spreads over all five namespaces.
    const service = await controlOf(m2).services.create(web)
    await until(async () => total(await runningByNode(controlOf(m1), service.id)) === REPLICAS, `${REPLICAS} replicas running`)
    const spread = await runningByNode(controlOf(m3), service.id)
    expect([...spread.keys()].sort()).toEqual(all.map((n) => n.ready.nodeId).sort())

    // kill -9 of the leader: the two others elect one of them and replace its tasks.
    const leader = await leaderOf(controlOf(m1), managers)
    if (leader === undefined) throw new Error('no leader named in the node list')
    const survivors = managers.filter((m) => m !== leader)
    const [s1, s2] = survivors as [NetnsNode, NetnsNode]
    await rig.kill(leader)
    await until(async () => (await leaderOf(controlOf(s1), survivors)) !== undefined, 'a new leader among the two others')
    // (A survivor whose agent took longer than the heartbeat grace to find the new leader may have
    // had its tasks moved too, as in SwarmKit: only the killed manager is sure to hold none.)
    await until(async () => {
      const byNode = await runningByNode(controlOf(s2), service.id)
      return total(byNode) === REPLICAS && !byNode.has(leader.ready.nodeId)
    }, `${REPLICAS} replicas running again, none on the killed manager`)
    const newLeader = await leaderOf(controlOf(s2), survivors)
    const leaderNode = await controlOf(s2).nodes.get(newLeader?.ready.nodeId ?? '')
    expect(leaderNode.managerStatus?.addr).toBe(newLeader?.ready.address)

    // The killed manager reopens in its namespace on the addresses it recorded and rejoins.
    const back = await rig.reopen(leader)
    expect([back.ready.nodeId, back.ready.address]).toEqual([leader.ready.nodeId, leader.ready.address])
    await until(async () => {
      const n = await controlOf(s2).nodes.get(back.ready.nodeId)
      return n.status.state === NodeState.READY && n.managerStatus?.reachability === 'reachable'
    }, 'the reopened manager ready and reachable')
    const again = await controlOf(back).nodes.get(back.ready.nodeId)
    expect([again.status.addr, again.managerStatus?.addr]).toEqual([leader.ns.ip, leader.ready.address])

    // A worker closed cleanly records the managers it knows: their advertised addresses, never loopback;
    // reopened, it reaches the cluster through them and is seen from its own address again.
    await rig.kill(w1, 'SIGTERM')
    const recorded = JSON.parse(await readFile(join(w1.stateDir, 'cluster-node.json'), 'utf8')) as { role: string; managers: string[] }
    expect(recorded.role).toBe('worker')
    expect(recorded.managers.length).toBeGreaterThan(0)
    for (const addr of recorded.managers) expect(managers.map((m) => m.ready.address)).toContain(addr)
    await until(async () => (await controlOf(s1).nodes.get(w1.ready.nodeId)).status.state === NodeState.DOWN, 'the closed worker down')
    const w1Again = await rig.reopen(w1)
    expect(w1Again.ready.nodeId).toBe(w1.ready.nodeId)
    await until(async () => (await controlOf(s1).nodes.get(w1.ready.nodeId)).status.state === NodeState.READY, 'the reopened worker ready')
    expect((await controlOf(s1).nodes.get(w1.ready.nodeId)).status.addr).toBe(w1.ns.ip)

    // Everything removed: none of our namespaces nor links is left.
    await rig.teardown()
    expect(ours(await netnsNames())).toEqual([])
    expect(ours(await hostLinkNames())).toEqual([])
  }, 240_000)

  it.skipIf(!isRoot)('localAddressToward, run inside a namespace, answers that namespace\'s own address toward a manager in another (skipped when not root: it makes namespaces and veths)', async () => {
    const topo = await rig.createTopology([['m1', 11], ['w1', 21]])
    const script = `const { localAddressToward } = await import(${JSON.stringify(LOCAL_ADDRESS)}); console.log(await localAddressToward(process.argv[1]))`
    const m1 = topo.node('m1')
    const w1 = topo.node('w1')
    expect(await nodeIn(w1.netns, script, [`${m1.ip}:${String(NODE_PORT)}`])).toBe(`${w1.ip}\n`)
    expect(await nodeIn(m1.netns, script, [`${w1.ip}:0`])).toBe(`${m1.ip}\n`)
    expect(await nodeIn(w1.netns, script, [`127.0.0.1:${String(NODE_PORT)}`])).toBe('127.0.0.1\n')
  }, 60_000)

  it.skipIf(!isRoot)('a task port published in host mode on a worker in its own namespace is reachable from a manager\'s namespace at the worker\'s status.addr and the port in the task\'s portStatus (skipped when not root: it makes namespaces and veths)', async () => {
    await rig.createTopology([['m1', 11], ['w1', 21]])
    const m1 = await rig.init('m1')
    const w1 = await rig.join('w1', m1, 'worker', ['--runtime', 'process'])
    await until(async () => (await controlOf(m1).nodes.get(w1.ready.nodeId)).status.state === NodeState.READY, 'the worker ready')
    const service = await controlOf(m1).services.create(www)
    let port: number | undefined
    await until(async () => {
      const [task] = await controlOf(m1).tasks.list({ serviceIds: [service.id], desiredStates: [TaskState.RUNNING] })
      port = task?.status.state === TaskState.RUNNING ? task.status.portStatus?.ports[0]?.publishedPort : undefined
      return port !== undefined && task?.nodeId === w1.ready.nodeId
    }, 'the task running on the worker with its published port')
    const addr = (await controlOf(m1).nodes.get(w1.ready.nodeId)).status.addr
    expect(addr).toBe(w1.ns.ip)
    const get = 'const r = await fetch(`http://${process.argv[1]}/`); console.log(r.status, (await r.text()).trim())'
    expect(await nodeIn(m1.ns.netns, get, [`${addr ?? ''}:${String(port)}`])).toBe('200 hello from the task\n')
  }, 120_000)
})
