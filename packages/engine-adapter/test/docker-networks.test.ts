import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CAPABILITIES, DockerRuntime } from '../src/docker/docker-runtime.ts'
import { FAKE_RUNTIME_CAPABILITIES } from '../src/fake/fake-runtime.ts'
import { validateRuntimeContainerSpec } from '../src/shared/spec-validation.ts'
import type { RuntimeContainerSpec } from '../src/runtime.ts'
import { reportSkipped, startEngine, stopEngine, type EngineEnv } from './helpers/engines.ts'

const skipped = reportSkipped('docker')

/** Reads what a TCP server at host:port sends before it closes (the test servers answer and close). */
function readAll(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let data = ''
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')))
    socket.on('data', (chunk: Buffer) => { data += chunk.toString('utf8') })
    socket.on('error', reject)
    socket.on('close', () => resolve(data))
  })
}

const bad = (spec: Omit<RuntimeContainerSpec, 'image'>, caps = DOCKER_CAPABILITIES): unknown => {
  try {
    validateRuntimeContainerSpec({ image: 'busybox', ...spec }, caps)
    return undefined
  } catch (err) {
    return { name: (err as Error).name, field: (err as { field?: string }).field }
  }
}

describe('networks in a container spec', () => {
  it('is refused by a runtime without the networks capability, naming the field', () => {
    expect(bad({ networks: [{ network: 'n1' }] }, FAKE_RUNTIME_CAPABILITIES)).toEqual({ name: 'InvalidArgumentError', field: 'networks' })
  })
  it('names the offending attachment field', () => {
    expect(bad({ networks: [{ network: '' }] })).toEqual({ name: 'InvalidArgumentError', field: 'networks[0].network' })
    expect(bad({ networks: [{ network: 'a' }, { network: 'a' }] })).toEqual({ name: 'InvalidArgumentError', field: 'networks[1].network' })
    expect(bad({ networks: [{ network: 'a' }, { network: 'host' }] })).toEqual({ name: 'InvalidArgumentError', field: 'networks[1].network' })
    expect(bad({ networks: [{ network: 'container:abc' }] })).toEqual({ name: 'InvalidArgumentError', field: 'networks[0].network' })
    expect(bad({ networks: [{ network: 'a', ipv4Address: '10.0.0.5/24' }] })).toEqual({ name: 'InvalidArgumentError', field: 'networks[0].ipv4Address' })
    expect(bad({ networks: [{ network: 'a', ipv6Address: '10.0.0.5' }] })).toEqual({ name: 'InvalidArgumentError', field: 'networks[0].ipv6Address' })
    expect(bad({ networks: [{ network: 'a', aliases: ['ok', 'not ok'] }] })).toEqual({ name: 'InvalidArgumentError', field: 'networks[0].aliases[1]' })
    expect(bad({ networks: [{ network: 'a', ipv4Address: '10.0.0.5', ipv6Address: 'fd00::5', aliases: ['web'] }] })).toBeUndefined()
  })
})

describe.skipIf(skipped)('DockerRuntime networks on a private dockerd', () => {
  let env: EngineEnv
  let rt: DockerRuntime
  const containers: string[] = []
  const networks: string[] = []
  // A /16 of its own per run, so files sharing the engine never overlap.
  const base = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`
  const subnet = (i: number): { subnet: string; gateway: string } => ({ subnet: `${base}.${i * 16}/28`, gateway: `${base}.${i * 16 + 1}` })
  /** Host address k of subnet i. */
  const addr = (i: number, k: number): string => `${base}.${i * 16 + k}`

  beforeAll(async () => {
    env = await startEngine('docker')
    rt = new DockerRuntime({ socketPath: env.dockerSocket, instance: `networks-${randomUUID()}`, stateDir: join(env.dir, 'docker-files'), allowPull: false })
  }, 300_000)
  afterAll(async () => {
    if (rt !== undefined) {
      await Promise.all(containers.map((id) => rt.remove(id, { force: true }).catch(() => undefined)))
      for (const n of networks) await rt.removeNetwork(n).catch(() => undefined)
      await rt.close()
    }
    if (env !== undefined) await stopEngine('docker')
  }, 120_000)

  const makeNetwork = async (name: string, i: number, labels: Record<string, string> = {}): Promise<string> => {
    const info = await rt.createNetwork({ name, ipv4: subnet(i), labels })
    networks.push(info.id)
    return info.id
  }
  const run = async (spec: Omit<RuntimeContainerSpec, 'image'>): Promise<string> => {
    const id = await rt.create({ image: env.dockerImage, ...spec })
    containers.push(id)
    await rt.start(id)
    return id
  }
  const stdout = async (id: string): Promise<string[]> => {
    const out: string[] = []
    for await (const l of rt.logs(id)) if (l.stream === 'stdout') out.push(l.line)
    return out
  }

  it('creates a labelled bridge network with the given subnet and gateway, lists and inspects it', async () => {
    const name = `n1-${randomUUID().slice(0, 8)}`
    const id = await makeNetwork(name, 1, { 'swarmkit.test': 'list' })
    const info = await rt.inspectNetwork(name)
    expect(info).toEqual({ id, name, driver: 'bridge', internal: false, labels: { 'swarmkit.test': 'list' }, subnets: [subnet(1)], containers: [] })
    expect((await rt.listNetworks({ labels: { 'swarmkit.test': 'list' } })).map((n) => n.name)).toEqual([name])
    expect(await rt.listNetworks({ labels: { 'swarmkit.test': 'none' } })).toEqual([])
    await expect(rt.createNetwork({ name, ipv4: subnet(2) })).rejects.toThrow(expect.objectContaining({ name: 'AlreadyExistsError' }))
    await expect(rt.createNetwork({ name: `x-${name}`, ipv4: subnet(1) })).rejects.toThrow(
      expect.objectContaining({ name: 'FailedPreconditionError', reason: 'network-conflict' }),
    )
    await expect(rt.createNetwork({ name: 'bad name', ipv4: subnet(3) })).rejects.toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'name' }))
    await expect(rt.createNetwork({ name: `y-${name}`, ipv4: { subnet: '10.0.0.0' } })).rejects.toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'ipv4.subnet' }),
    )
  }, 60_000)

  it('gives a container its fixed addresses on two networks, and containers reach each other by address and alias', async () => {
    const a = `a-${randomUUID().slice(0, 8)}`
    const b = `b-${randomUUID().slice(0, 8)}`
    await makeNetwork(a, 4)
    await makeNetwork(b, 5)
    const server = await run({
      command: ['nc', '-ll', '-p', '7000', '-e', 'echo', 'from-server'],
      networks: [{ network: a, ipv4Address: `${addr(4, 5)}`, aliases: ['srv'] }, { network: b, ipv4Address: `${addr(5, 6)}` }],
    })
    const client = await run({
      command: ['sh', '-c', `ip -4 -o addr show | grep -v ' lo ' | sed 's/.*inet \\([^ ]*\\).*/\\1/'; nc ${addr(5, 6)} 7000 </dev/null; nc srv 7000 </dev/null`],
      networks: [{ network: b, ipv4Address: `${addr(5, 9)}` }, { network: a, ipv4Address: `${addr(4, 9)}` }],
    })
    expect(await rt.wait(client)).toBe(0)
    expect((await stdout(client)).sort()).toEqual([`${addr(4, 9)}/28`, `${addr(5, 9)}/28`, 'from-server', 'from-server'].sort())
    // The client has exited (its endpoint is gone): the server's is left.
    const info = await rt.inspectNetwork(a)
    expect(info.containers.map((c) => [c.id, c.ipv4Address])).toEqual([[server, `${addr(4, 5)}/28`]])
    // From the host, through the bridge (the host holds the gateway address).
    expect(await readAll(`${addr(4, 5)}`, 7000)).toBe('from-server\n')
  }, 60_000)

  it('publishes a port of a container on a network on the host (the workload listens on $PORT = target)', async () => {
    const n = `p-${randomUUID().slice(0, 8)}`
    await makeNetwork(n, 6)
    const id = await run({
      command: ['sh', '-c', 'exec nc -ll -p "$PORT" -e echo "port $PORT"'],
      networks: [{ network: n, ipv4Address: `${addr(6, 7)}` }],
      ports: [{ target: 7100 }],
    })
    const ports = (await rt.inspect(id)).ports
    expect(ports.map((p) => [p.target, p.protocol])).toEqual([[7100, 'tcp']])
    const published = ports[0]?.published ?? 0
    let answer = ''
    // docker-proxy may accept before the workload listens: retry until it answers (the test's own guard is its timeout).
    while (answer === '') answer = await readAll('127.0.0.1', published).catch(() => '')
    expect(answer).toBe('port 7100\n')
  }, 60_000)

  it('refuses to remove a network while a container is attached, and removes it after', async () => {
    const n = `r-${randomUUID().slice(0, 8)}`
    await makeNetwork(n, 7)
    const id = await run({ command: ['sleep', '30'], networks: [{ network: n, ipv4Address: `${addr(7, 2)}` }] })
    await expect(rt.removeNetwork(n)).rejects.toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'network-in-use' }))
    await rt.remove(id, { force: true })
    await rt.removeNetwork(n)
    await expect(rt.inspectNetwork(n)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError', kind: 'network' }))
    await expect(rt.removeNetwork(n)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError', kind: 'network' }))
  }, 60_000)

  it('rejects a container on an unknown network with NotFoundError and leaves no container behind', async () => {
    const n = `q-${randomUUID().slice(0, 8)}`
    await makeNetwork(n, 8)
    const labels = { 'swarmkit.test': `unknown-${n}` }
    await expect(rt.create({ image: env.dockerImage, command: ['true'], labels, networks: [{ network: 'no-such-network' }] })).rejects.toThrow(
      expect.objectContaining({ name: 'NotFoundError', kind: 'network', id: 'no-such-network' }),
    )
    await expect(rt.create({ image: env.dockerImage, command: ['true'], labels, networks: [{ network: n }, { network: 'no-such-network' }] })).rejects.toThrow(
      expect.objectContaining({ name: 'NotFoundError', kind: 'network' }),
    )
    expect(await rt.list({ labels })).toEqual([])
  }, 60_000)

  it('does not see another instance\'s networks', async () => {
    const n = `o-${randomUUID().slice(0, 8)}`
    await makeNetwork(n, 9)
    const other = new DockerRuntime({ socketPath: env.dockerSocket, instance: `other-${randomUUID()}`, allowPull: false })
    try {
      await expect(other.inspectNetwork(n)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError', kind: 'network' }))
      expect(await other.listNetworks()).toEqual([])
      await expect(other.removeNetwork(n)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError', kind: 'network' }))
    } finally {
      await other.close()
    }
  }, 60_000)
})
