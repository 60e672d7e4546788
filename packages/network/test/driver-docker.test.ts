import { randomBytes, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { DockerRuntime } from '@swarmkit-ts/engine-adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeNetworkDriverCompliance } from '../src/compliance/index.ts'
import { DOCKER_DRIVER_CAPABILITIES, DockerNetworkDriver, withTaskNetwork, type DriverNetwork } from '../src/driver/index.ts'
import { dockerSkipReason, startDocker, stopDocker, type TestDocker } from './helpers/driver-engines.ts'

const skip = dockerSkipReason() !== undefined

describe.skipIf(skip)('DockerNetworkDriver on a private dockerd', () => {
  let docker: TestDocker | undefined
  beforeAll(async () => {
    docker = await startDocker()
  }, 300_000)
  afterAll(async () => {
    if (docker !== undefined) await stopDocker()
  }, 120_000)

  const runtimeFor = (d: TestDocker, instance: string): DockerRuntime =>
    new DockerRuntime({ socketPath: d.socket, instance, stateDir: join(d.dir, 'network-docker-files'), allowPull: false })

  describeNetworkDriverCompliance('DockerNetworkDriver', () => {
    if (docker === undefined) throw new Error('docker not started')
    const runtime = runtimeFor(docker, `network-compliance-${randomUUID()}`)
    return {
      driver: new DockerNetworkDriver({ runtime, namePrefix: `swk${randomBytes(3).toString('hex')}` }),
      runtime,
      image: docker.image,
      teardown: () => runtime.close(),
    }
  }, { capabilities: DOCKER_DRIVER_CAPABILITIES })

  describe('Docker specifics', () => {
    let runtime: DockerRuntime
    let driver: DockerNetworkDriver
    const containers: string[] = []
    const tasks: string[] = []
    const networks: string[] = []
    // Its own /24, apart from the compliance run's.
    const base = `10.${String(200 + (randomBytes(1)[0] ?? 0) % 50)}.${String((randomBytes(1)[0] ?? 0) % 250)}`
    const net = (i: number, extra: Partial<DriverNetwork> = {}): DriverNetwork => ({
      id: `${randomBytes(12).toString('hex')}${String(i)}`,
      name: `spec${String(i)}`,
      subnet: `${base}.${String(i * 16)}/28`,
      gateway: `${base}.${String(i * 16 + 1)}`,
      ...extra,
    })
    const addr = (i: number, k: number): string => `${base}.${String(i * 16 + k)}`

    beforeAll(() => {
      if (docker === undefined) throw new Error('docker not started')
      runtime = runtimeFor(docker, `network-specifics-${randomUUID()}`)
      driver = new DockerNetworkDriver({ runtime, namePrefix: `swk${randomBytes(3).toString('hex')}` })
    })
    afterAll(async () => {
      await Promise.all(containers.map((id) => runtime.remove(id, { force: true }).catch(() => undefined)))
      for (const t of tasks) await driver.releaseTask(t)
      for (const n of networks) await driver.removeNetwork(n).catch(() => undefined)
      await runtime.close()
    }, 120_000)

    const create = async (n: DriverNetwork): Promise<DriverNetwork> => {
      networks.push(n.id)
      await driver.createNetwork(n)
      return n
    }

    it('makes a labelled bridge network with the allocated subnet and gateway, internal when asked', async () => {
      const n = await create(net(1, { internal: true, labels: { team: 'blue' } }))
      const info = await runtime.inspectNetwork(driver.dockerNetworkName(n))
      expect(info.name).toBe(`${driver.dockerNetworkName(n)}`)
      expect(info.name.endsWith(`-spec1-${n.id.slice(0, 12)}`)).toBe(true)
      expect([info.driver, info.internal, info.subnets, info.labels['team'], info.labels['swarmkit-ts.network.id']]).toEqual([
        'bridge', true, [{ subnet: n.subnet, gateway: n.gateway }], 'blue', n.id,
      ])
    }, 60_000)

    it('a container on two networks gets both allocated addresses (ip addr inside shows them) and reaches tasks on each by address', async () => {
      const ingress = await create(net(2, { name: 'ingress', ingress: true }))
      const app = await create(net(3))
      const server = { taskId: `srv${randomUUID()}`, attachments: [{ networkId: app.id, addresses: [`${addr(3, 5)}/28`] }], ports: [] }
      const other = { taskId: `oth${randomUUID()}`, attachments: [{ networkId: ingress.id, addresses: [`${addr(2, 5)}/28`] }], ports: [] }
      const both = {
        taskId: `both${randomUUID()}`,
        attachments: [{ networkId: ingress.id, addresses: [`${addr(2, 9)}/28`] }, { networkId: app.id, addresses: [`${addr(3, 9)}/28`], aliases: ['both'] }],
        ports: [],
      }
      tasks.push(server.taskId, other.taskId, both.taskId)
      const run = async (task: typeof server, script: string): Promise<string> => {
        const spec = withTaskNetwork({ image: docker?.image ?? '', command: ['sh', '-c', script] }, await driver.prepareTask(task))
        const id = await runtime.create(spec)
        containers.push(id)
        await runtime.start(id)
        return id
      }
      await run(server, 'exec nc -ll -p 7000 -e echo app-server')
      await run(other, 'exec nc -ll -p 7000 -e echo ingress-server')
      const id = await run(both, `ip -4 -o addr show | grep -v ' lo ' | sed 's/.*inet \\([^ ]*\\).*/\\1/' | sort
        until nc ${addr(3, 5)} 7000 </dev/null; do sleep 0.1; done
        until nc ${addr(2, 5)} 7000 </dev/null; do sleep 0.1; done`)
      expect(await runtime.wait(id)).toBe(0)
      const out: string[] = []
      for await (const l of runtime.logs(id)) if (l.stream === 'stdout') out.push(l.line)
      expect(out).toEqual([...[`${addr(2, 9)}/28`, `${addr(3, 9)}/28`].sort(), 'app-server', 'ingress-server'])
    }, 60_000)

    it('gives a task its IPv6 address too on a dual-stack network', async () => {
      // Groups written as `ip addr` prints them (RFC 5952: no leading zeros, never all-zero here).
      const group = (): string => ((randomBytes(2).readUInt16BE(0) % 0xf000) + 0x1000).toString(16)
      const v6 = `fd${randomBytes(1).toString('hex')}:${group()}:${group()}::`
      const n = await create(net(6, { ipv6: { subnet: `${v6}/64`, gateway: `${v6}1` } }))
      const task = { taskId: `v6${randomUUID()}`, attachments: [{ networkId: n.id, addresses: [`${addr(6, 5)}/28`, `${v6}5/64`] }], ports: [] }
      tasks.push(task.taskId)
      const spec = withTaskNetwork({ image: docker?.image ?? '', command: ['sh', '-c', "ip -o addr show | grep -v ' lo ' | grep -v ' fe80' | sed 's/.*inet6\\{0,1\\} \\([^ ]*\\).*/\\1/' | sort"] }, await driver.prepareTask(task))
      const id = await runtime.create(spec)
      containers.push(id)
      await runtime.start(id)
      expect(await runtime.wait(id)).toBe(0)
      const out: string[] = []
      for await (const l of runtime.logs(id)) if (l.stream === 'stdout') out.push(l.line)
      expect(out).toEqual([`${addr(6, 5)}/28`, `${v6}5/64`].sort())
    }, 60_000)

    it('an engine that still has a container on the network refuses its removal even after the task was released', async () => {
      const n = await create(net(7))
      const task = { taskId: `keep${randomUUID()}`, attachments: [{ networkId: n.id, addresses: [`${addr(7, 5)}/28`] }], ports: [] }
      const spec = withTaskNetwork({ image: docker?.image ?? '', command: ['sleep', '30'] }, await driver.prepareTask(task))
      const id = await runtime.create(spec)
      containers.push(id)
      await runtime.start(id)
      await driver.releaseTask(task.taskId)
      await expect(driver.removeNetwork(n.id)).rejects.toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'network-in-use' }))
      expect((await driver.listNetworks()).filter((x) => x.id === n.id).map((x) => x.id)).toEqual([n.id])
      await runtime.remove(id, { force: true })
      await driver.removeNetwork(n.id)
      expect((await driver.listNetworks()).filter((x) => x.id === n.id)).toEqual([])
    }, 60_000)

    it('a new driver instance on the same engine finds the networks: create is a no-op, a changed subnet is refused, list recovers them', async () => {
      const n = await create(net(4, { labels: { team: 'red' } }))
      const again = new DockerNetworkDriver({ runtime, namePrefix: 'other' })
      await again.createNetwork(n)
      await expect(again.createNetwork({ ...n, subnet: `${base}.${String(5 * 16)}/28`, gateway: addr(5, 1) })).rejects.toThrow(
        expect.objectContaining({ name: 'FailedPreconditionError', reason: 'network-changed' }),
      )
      const listed = (await again.listNetworks()).filter((x) => x.id === n.id)
      expect(listed).toEqual([{ id: n.id, name: n.name, subnet: n.subnet, gateway: n.gateway, labels: { team: 'red' }, tasks: [] }])
    }, 60_000)
  })
})
