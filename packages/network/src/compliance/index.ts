/**
 * The `NetworkDriver` compliance suite: one call registers vitest tests that check every
 * obligation of the contract against a driver and the runtime it is paired with.
 *
 * ```ts
 * import { describeNetworkDriverCompliance } from '@swarmkit-ts/network/compliance'
 * describeNetworkDriverCompliance('MyDriver', async () => ({
 *   driver: new MyDriver(), runtime: myRuntime, image: 'local/busybox:test',
 * }), { capabilities: { addresses: true, multiHost: false } })
 * ```
 *
 * @packageDocumentation
 */
import { describe, expect, it } from 'vitest'
import { toPortStatus } from '../driver/task-network.ts'
import { NetworkHarness, readReply, replyServer, type NetworkDriverComplianceOptions, type NetworkDriverComplianceTarget } from './harness.ts'

export type { NetworkDriverComplianceOptions, NetworkDriverComplianceTarget } from './harness.ts'
export { NETWORK_COMPLIANCE_LABEL } from './harness.ts'

const named = (name: string, extra: Record<string, unknown> = {}): unknown => expect.objectContaining({ name, ...extra })

/** Asks until the server answers (a workload may not listen yet when its container runs); the test's timeout is the guard. */
async function replyOf(address: string, port: number): Promise<string> {
  for (;;) {
    const answer = await readReply(address, port).catch(() => '')
    if (answer !== '') return answer
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Registers the compliance suite for a driver (call it at the top level of a vitest test file).
 * `factory` runs once before the suite; every test removes the containers, tasks and networks it
 * made. `options.capabilities` are what the driver declares (`describe()` must report exactly
 * these); with `addresses`, tasks must get their addresses and reach each other by them, without
 * it they must get no runtime networks.
 */
export function describeNetworkDriverCompliance(
  name: string,
  factory: () => Promise<NetworkDriverComplianceTarget> | NetworkDriverComplianceTarget,
  options: NetworkDriverComplianceOptions,
): void {
  describe(`NetworkDriver compliance: ${name}`, () => {
    const h = new NetworkHarness(factory, options)
    const t = h.timeout

    it('describes itself with a name and the declared capabilities', async () => {
      const d = await h.driver.describe()
      expect(d.name).toMatch(/\S/)
      expect(d.capabilities).toEqual(options.capabilities)
    }, t)

    describe('networks', () => {
      it('creates a network idempotently and lists it once, without tasks', async () => {
        const n = h.network({ labels: { team: 'a' } })
        await h.create(n)
        await h.driver.createNetwork(n)
        const mine = (await h.driver.listNetworks()).filter((x) => x.id === n.id)
        expect(mine.map((x) => [x.id, x.name, x.subnet, x.gateway, x.tasks])).toEqual([[n.id, n.name, n.subnet, n.gateway, []]])
      }, t)

      it('refuses the same network id with another subnet (network-changed)', async () => {
        const n = h.network()
        const other = h.network()
        await h.create(n)
        await expect(h.driver.createNetwork({ ...n, subnet: other.subnet, gateway: other.gateway })).rejects.toThrow(
          named('FailedPreconditionError', { reason: 'network-changed' }),
        )
      }, t)

      it('refuses a bad network description, naming the field', async () => {
        const n = h.network()
        await expect(h.driver.createNetwork({ ...n, subnet: '10.0.0.1' })).rejects.toThrow(named('InvalidArgumentError', { field: 'subnet' }))
        await expect(h.driver.createNetwork({ ...n, gateway: '192.0.2.1' })).rejects.toThrow(named('InvalidArgumentError', { field: 'gateway' }))
        await expect(h.driver.createNetwork({ ...n, name: 'no spaces' })).rejects.toThrow(named('InvalidArgumentError', { field: 'name' }))
        expect((await h.driver.listNetworks()).filter((x) => x.id === n.id)).toEqual([])
      }, t)

      it('removes a network idempotently (an unknown id is a no-op)', async () => {
        const n = h.network()
        await h.create(n)
        await h.driver.removeNetwork(n.id)
        await h.driver.removeNetwork(n.id)
        await h.driver.removeNetwork(h.id('unknown'))
        expect((await h.driver.listNetworks()).filter((x) => x.id === n.id)).toEqual([])
      }, t)

      it('refuses to remove a network while a task is prepared on it, and removes it once released', async () => {
        const n = h.network()
        await h.create(n)
        const task = h.task([{ networkId: n.id, addresses: [`${h.address(n, 2)}/28`] }])
        await h.driver.prepareTask(task)
        await expect(h.driver.removeNetwork(n.id)).rejects.toThrow(named('FailedPreconditionError', { reason: 'network-in-use' }))
        expect((await h.driver.listNetworks()).filter((x) => x.id === n.id).map((x) => x.tasks)).toEqual([[task.taskId]])
        await h.driver.releaseTask(task.taskId)
        await h.driver.releaseTask(task.taskId)
        await h.driver.removeNetwork(n.id)
        expect((await h.driver.listNetworks()).filter((x) => x.id === n.id)).toEqual([])
      }, t)

      it('handles concurrent calls: networks created (twice each) and tasks prepared at once, then released and removed at once', async () => {
        const nets = [h.network(), h.network(), h.network()]
        await Promise.all(nets.flatMap((n) => [h.create(n), h.driver.createNetwork(n)]))
        const tasks = nets.flatMap((n) => [2, 3].map((k) => h.task([{ networkId: n.id, addresses: [`${h.address(n, k)}/28`] }])))
        await Promise.all(tasks.map((task) => h.driver.prepareTask(task)))
        const listed = (await h.driver.listNetworks()).filter((x) => nets.some((n) => n.id === x.id))
        expect(listed.map((x) => [x.id, x.tasks]).sort()).toEqual(nets.map((n, i) => [n.id, [tasks[2 * i]?.taskId, tasks[2 * i + 1]?.taskId].sort()]).sort())
        await Promise.all(tasks.map((task) => h.driver.releaseTask(task.taskId)))
        await Promise.all(nets.map((n) => h.driver.removeNetwork(n.id)))
        expect((await h.driver.listNetworks()).filter((x) => nets.some((n) => n.id === x.id))).toEqual([])
      }, t)

      it('a task prepared again on another network leaves the first one free', async () => {
        const n1 = h.network()
        const n2 = h.network()
        await h.create(n1)
        await h.create(n2)
        const task = h.task([{ networkId: n1.id, addresses: [`${h.address(n1, 2)}/28`] }])
        await h.driver.prepareTask(task)
        await h.driver.prepareTask({ ...task, attachments: [{ networkId: n2.id, addresses: [`${h.address(n2, 2)}/28`] }] })
        await h.driver.removeNetwork(n1.id)
        await expect(h.driver.removeNetwork(n2.id)).rejects.toThrow(named('FailedPreconditionError', { reason: 'network-in-use' }))
      }, t)
    })

    describe('tasks', () => {
      it('refuses a task on a network not created here (NotFoundError) and addresses that are not task addresses', async () => {
        const n = h.network()
        await h.create(n)
        const ghost = h.id('ghost')
        await expect(h.driver.prepareTask(h.task([{ networkId: ghost, addresses: ['10.9.9.2/24'] }]))).rejects.toThrow(
          named('NotFoundError', { kind: 'network', id: ghost }),
        )
        for (const bad of ['10.9.9.2/28', `${h.address(n, 1)}/28`, `${h.address(n, 0)}/28`, `${h.address(n, 15)}/28`, `${h.address(n, 2)}/24`, h.address(n, 2)]) {
          await expect(h.driver.prepareTask(h.task([{ networkId: n.id, addresses: [bad] }]))).rejects.toThrow(
            named('InvalidArgumentError', { field: 'attachments[0].addresses[0]' }),
          )
        }
        // Refused preparations hold nothing: the network can go.
        await h.driver.removeNetwork(n.id)
      }, t)

      it('publishes an ingress port so the task answers at its reported endpoint', async () => {
        const n = h.network({ ingress: true })
        await h.create(n)
        const task = h.task([{ networkId: n.id, addresses: [`${h.address(n, 3)}/28`] }], [{ protocol: 'tcp', targetPort: 7000, publishedPort: 30080, publishMode: 'ingress' }])
        const id = await h.runTask(task, replyServer(7000, task.taskId))
        const endpoints = await h.driver.taskEndpoints(task, await h.target.runtime.inspect(id))
        expect(endpoints.map((e) => [e.targetPort, e.protocol, e.publishMode])).toEqual([[7000, 'tcp', 'ingress']])
        const [e] = endpoints
        if (e === undefined) throw new Error('no endpoint')
        // A driver with task addresses reaches the task on the ingress network; one without publishes the port on the node.
        if (options.capabilities.addresses) expect([e.via, e.address, e.port, e.networkId]).toEqual(['task', h.address(n, 3), 7000, n.id])
        else expect(e.via).toBe('node')
        expect(await replyOf(e.address, e.port)).toBe(`${task.taskId}\n`)
      }, t)

      it('publishes a host-mode port on the node, reported in the task\'s port status', async () => {
        const n = h.network()
        await h.create(n)
        const task = h.task([{ networkId: n.id, addresses: [`${h.address(n, 4)}/28`] }], [{ protocol: 'tcp', targetPort: 7001, publishedPort: 0, publishMode: 'host' }])
        const id = await h.runTask(task, replyServer(7001, task.taskId))
        const endpoints = await h.driver.taskEndpoints(task, await h.target.runtime.inspect(id))
        const [e] = endpoints
        if (e === undefined) throw new Error('no endpoint')
        expect([endpoints.length, e.targetPort, e.publishMode, e.via]).toEqual([1, 7001, 'host', 'node'])
        expect(toPortStatus(endpoints)).toEqual([{ protocol: 'tcp', targetPort: 7001, publishedPort: e.port, publishMode: 'host' }])
        expect(await replyOf(e.address, e.port)).toBe(`${task.taskId}\n`)
      }, t)

      if (!options.capabilities.addresses) {
        it('gives a task no runtime networks when it declares no task addresses', async () => {
          const n = h.network()
          await h.create(n)
          const config = await h.driver.prepareTask(h.task([{ networkId: n.id, addresses: [`${h.address(n, 5)}/28`] }]))
          expect(config.networks).toEqual([])
        }, t)
        return
      }
      it('two tasks on one network have their allocated addresses and reach each other by address and alias', async () => {
        const n = h.network()
        await h.create(n)
        const server = h.task([{ networkId: n.id, addresses: [`${h.address(n, 5)}/28`], aliases: ['srv'] }])
        await h.runTask(server, replyServer(7002, server.taskId))
        const client = h.task([{ networkId: n.id, addresses: [`${h.address(n, 6)}/28`] }])
        const script = `ip -4 -o addr show | grep -c ' ${h.address(n, 6)}/28 '; until nc ${h.address(n, 5)} 7002 </dev/null; do sleep 0.1; done; nc srv 7002 </dev/null`
        const id = await h.runTask(client, script)
        expect(await h.target.runtime.wait(id)).toBe(0)
        expect(await h.stdout(id)).toEqual(['1', server.taskId, server.taskId])
        // Removed and released, the client's address is free for the next task.
        await h.removeContainer(id)
        await h.driver.releaseTask(client.taskId)
        const again = h.task([{ networkId: n.id, addresses: [`${h.address(n, 6)}/28`] }])
        const id2 = await h.runTask(again, `nc ${h.address(n, 5)} 7002 </dev/null`)
        expect(await h.target.runtime.wait(id2)).toBe(0)
        expect(await h.stdout(id2)).toEqual([server.taskId])
      }, t)
    })
  })
}
