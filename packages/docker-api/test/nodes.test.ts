import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import type { ClusterNode, RoleEvent } from '@swarmkit-ts/core'
import { DOCKER_CLIS, DockerRig, until } from './rig.ts'
import { api } from './swarm-http.ts'

/** The rows of a `docker … ls` table: cells split on runs of two or more spaces, the header dropped. */
function rows(out: string): string[][] {
  return out
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/ {2,}/).map((c) => c.trim()))
}

describe.each(DOCKER_CLIS)('docker node ($version) on 3 managers and a worker', (cli) => {
  let rig: DockerRig
  const successors: ClusterNode[] = []
  /** Follows a node through role changes, keeping each new object to close it. */
  const track = (n: ClusterNode): void => {
    const onRole = (e: RoleEvent): void => {
      successors.push(e.node)
      track(e.node)
    }
    if (n.role === 'manager') n.on('role', onRole)
    else n.on('role', onRole)
  }
  beforeAll(async () => {
    rig = await DockerRig.start({ managers: 3, workers: 1 })
    for (const w of rig.workers) track(w)
    // A node is READY once its first heartbeat session is up: the rig may return before.
    await until(async () => (await rig.manager.nodes.list()).every((n) => n.status.state === 'ready'), 'every node ready', 100_000)
  }, 120_000)
  afterAll(async () => {
    for (const n of successors.splice(0).reverse()) await n.close().catch(() => undefined)
    await rig?.close()
  })
  const workerId = (): string => rig.workers[0]?.nodeId ?? ''

  it('node ls lists every node, marks this one with * and the leader', async () => {
    const r = await rig.docker(cli, ['node', 'ls'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toMatch(/^ID +HOSTNAME +STATUS +AVAILABILITY +MANAGER STATUS +ENGINE VERSION$/)
    const byId = new Map(rows(r.stdout).map((c) => [c[0]?.replace(/ \*$/, ''), c]))
    expect(byId.size).toBe(4)
    expect(byId.get(rig.manager.nodeId)?.[0]).toBe(`${rig.manager.nodeId} *`)
    const leader = rig.managers.find((m) => m.isLeader)
    for (const m of rig.managers) {
      expect(byId.get(m.nodeId)?.slice(2, 5)).toEqual(['Ready', 'Active', m === leader ? 'Leader' : 'Reachable'])
    }
    expect(byId.get(workerId())?.slice(2, 4)).toEqual(['Ready', 'Active'])
    expect(byId.get(workerId())).toHaveLength(5) // no manager status
  })

  it('node inspect self is this manager; a unique ID prefix names a node', async () => {
    const self = await rig.docker(cli, ['node', 'inspect', 'self', '--format', '{{.ID}} {{.Spec.Role}} {{.Status.State}} {{.ManagerStatus.Addr}}'])
    expect(self.code).toBe(0)
    expect(self.stdout.trim()).toBe(`${rig.manager.nodeId} manager ready ${rig.manager.address}`)
    const prefix = await rig.docker(cli, ['node', 'inspect', workerId().slice(0, 8), '--format', '{{.ID}} {{.Spec.Role}}'])
    expect(prefix.stdout.trim()).toBe(`${workerId()} worker`)
    const none = await rig.docker(cli, ['node', 'inspect', 'nosuchnode'])
    expect(none.code).toBe(1)
    // 20.10 prints a 404 as "No such node", 28.2 prints the daemon's message.
    expect(['Status: Error: No such node: nosuchnode, Code: 1\n', 'Error response from daemon: node nosuchnode not found\n']).toContain(none.stderr)
  })

  it('node update --label-add sets a label the node.label filter finds', async () => {
    const r = await rig.docker(cli, ['node', 'update', '--label-add', 'zone=a', workerId()])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect((await rig.manager.nodes.get(workerId())).spec.annotations.labels).toEqual({ zone: 'a' })
    const ls = await rig.docker(cli, ['node', 'ls', '-q', '--filter', 'node.label=zone=a'])
    expect(ls.stdout).toBe(`${workerId()}\n`)
    const managers = await rig.docker(cli, ['node', 'ls', '-q', '--filter', 'role=manager'])
    expect(managers.stdout.trim().split('\n').sort()).toEqual(rig.managers.map((m) => m.nodeId).sort())
  })

  it('node update --availability drain moves the tasks off the node; active takes it back', async () => {
    const m = rig.manager
    const web = await m.services.create({ annotations: { name: 'web' }, mode: { replicated: { replicas: 8 } }, task: { container: { image: 'busybox:fake', command: ['sleep', '3600'] } } })
    const live = async (nodeId: string): Promise<number> =>
      (await m.tasks.list({ serviceIds: [web.id], nodeIds: [nodeId] })).filter((t) => t.desiredState === TaskState.RUNNING && t.status.state === TaskState.RUNNING).length
    await until(async () => (await live(workerId())) > 0, 'a task running on the worker', 120_000)
    const r = await rig.docker(cli, ['node', 'update', '--availability', 'drain', workerId()])
    expect(r.code).toBe(0)
    expect((await m.nodes.get(workerId())).spec.availability).toBe('drain')
    await until(async () => (await m.tasks.list({ serviceIds: [web.id], nodeIds: [workerId()] })).every((t) => t.desiredState > TaskState.RUNNING), 'the worker drained', 120_000)
    await until(async () => (await Promise.all(rig.managers.map((x) => live(x.nodeId)))).reduce((a, b) => a + b, 0) === 8, '8 tasks running on the managers', 120_000)
    const ls = await rig.docker(cli, ['node', 'ls', '--filter', `id=${workerId()}`])
    expect(rows(ls.stdout)[0]?.slice(2, 4)).toEqual(['Ready', 'Drain'])
    expect((await rig.docker(cli, ['node', 'update', '--availability', 'active', workerId()])).code).toBe(0)
    expect((await m.nodes.get(workerId())).spec.availability).toBe('active')
    await m.services.remove(web.id)
  }, 240_000)

  it('node rm refuses a node that is up, naming it', async () => {
    const r = await rig.docker(cli, ['node', 'rm', workerId()])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`Error response from daemon: node ${workerId()} is not down and can't be removed (use force)\n`)
    expect((await rig.manager.nodes.get(workerId())).id).toBe(workerId())
  })

  it('node promote makes the worker a manager; node demote makes it a worker again', async () => {
    const id = workerId()
    const p = await rig.docker(cli, ['node', 'promote', id])
    expect(p.stderr).toBe('')
    expect(p.code).toBe(0)
    expect(p.stdout).toBe(`Node ${id} promoted to a manager in the swarm.\n`)
    await until(async () => (await rig.manager.nodes.get(id)).managerStatus?.reachability === 'reachable', 'the promoted node reachable in Raft', 120_000)
    const ls = await rig.docker(cli, ['node', 'ls', '--filter', 'role=manager', '-q'])
    expect(ls.stdout.trim().split('\n')).toHaveLength(4)
    const d = await rig.docker(cli, ['node', 'demote', id])
    expect(d.stderr).toBe('')
    expect(d.code).toBe(0)
    expect(d.stdout).toBe(`Manager ${id} demoted in the swarm.\n`)
    await until(async () => {
      const n = await rig.manager.nodes.get(id)
      return n.role === 'worker' && n.managerStatus === undefined
    }, 'the demoted node a worker', 120_000)
  }, 240_000)
})

describe('the /nodes endpoints refuse bad updates, changing nothing', () => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start({ workers: 1 })
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('a stale or missing version, an unknown field, a bad availability', async () => {
    const id = rig.manager.nodeId
    const before = await rig.manager.nodes.get(id)
    const v = before.meta.version.index
    const spec = { Labels: {}, Role: 'manager', Availability: 'active' }
    expect((await api(rig, 'POST', `/v1.41/nodes/${id}/update?version=${v - 1n}`, { ...spec, Labels: { a: 'b' } })).status).toBe(409)
    expect((await api(rig, 'POST', `/v1.41/nodes/${id}/update`, spec)).status).toBe(400)
    expect(await api(rig, 'POST', `/v1.41/nodes/${id}/update?version=${v}`, { ...spec, Hostname: 'x' })).toEqual({ status: 400, body: { message: 'Hostname: unknown field' } })
    expect(await api(rig, 'POST', `/v1.41/nodes/${id}/update?version=${v}`, { ...spec, Availability: 'gone' })).toEqual({
      status: 400,
      body: { message: 'Availability: invalid availability "gone": must be active, pause or drain' },
    })
    expect((await rig.manager.nodes.get(id)).spec).toEqual(before.spec) // its status moves on its own
    expect(await api(rig, 'GET', `/v1.41/nodes?filters=${encodeURIComponent('{"role":{"boss":true}}')}`)).toEqual({ status: 400, body: { message: "filters: Invalid filter 'role=boss'" } })
    expect(await api(rig, 'GET', '/v1.41/nodes/nosuch')).toEqual({ status: 404, body: { message: 'node nosuch not found' } })
  })

  it('a hostname two nodes share names neither: 400 ambiguous, as dockerd', async () => {
    const host = (await rig.manager.nodes.get(rig.manager.nodeId)).description?.hostname ?? ''
    const worker = await rig.manager.nodes.get(rig.workers[0]?.nodeId ?? '')
    expect(worker.description?.hostname).toBe(host) // the rig gives every node this machine's hostname
    expect(await api(rig, 'GET', `/v1.41/nodes/${host}`)).toEqual({ status: 400, body: { message: `node ${host} is ambiguous (2 matches found)` } })
  })
})
