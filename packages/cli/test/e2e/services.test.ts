/**
 * The CLI end to end, services and stacks: a local cluster of 3 managers and a worker, each a
 * `swarmkit node start` process, driven by `swarmkit` child processes as a user would — tables
 * parsed, `--format json` and templates validated, exit codes checked.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { E2eCluster, rowsOf, until, type CliResult } from './rig.ts'

interface ServiceJson {
  readonly id: string
  readonly meta: { readonly version: { readonly index: string } }
  readonly spec: { readonly annotations: { readonly name: string; readonly labels?: Record<string, string> }; readonly mode: { readonly replicated?: { readonly replicas: number } }; readonly task: { readonly container: { readonly image: string; readonly env?: string[] } } }
}

interface TaskJson {
  readonly id: string
  readonly serviceId: string
  readonly slot: number
  readonly nodeId: string
  readonly desiredState: number
  readonly status: { readonly state: number }
}

const ID = /^[0-9a-z]{25}$/
const lines = (r: CliResult): string[] => r.stdout.trimEnd().split('\n')

describe('swarmkit end to end: services and stacks', { timeout: 240_000 }, () => {
  let cluster: E2eCluster
  const cli = (...argv: string[]): Promise<CliResult> => cluster.cli(argv)

  beforeAll(async () => {
    cluster = await E2eCluster.start()
  }, 240_000)
  afterAll(async () => {
    await cluster?.close()
  }, 120_000)

  /** Waits until `service ls` shows `replicas` for `name`. */
  const replicasOf = async (name: string): Promise<string | undefined> => (await cli('service', 'ls', '--filter', `name=${name}`, '--format', '{{.Replicas}}')).stdout.trim()

  it('creates a service waiting for it to converge (plain progress lines), or at once with --detach; ls, ps and inspect show it', async () => {
    const created = await cli('service', 'create', '--name', 'web', '--replicas', '3', '--update-monitor', '200ms', '--label', 'tier=front', 'busybox:fake', 'sleep', '3600')
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const webId = lines(created)[0] ?? ''
    expect(webId).toMatch(ID)
    expect(lines(created).at(-1)).toBe(`verify: Service ${webId} converged`)
    expect(lines(created)).toContain('overall progress: 3 out of 3 tasks')

    const detached = await cli('service', 'create', '-d', '--name', 'api', 'busybox:fake', 'sleep', '3600')
    expect(detached.code).toBe(0)
    expect(detached.stdout).toMatch(/^[0-9a-z]{25}\n$/)
    const apiId = detached.stdout.trim()
    await until(async () => (await replicasOf('api')) === '1/1', 'api running')

    const ls = await cli('service', 'ls')
    expect(ls.stderr).toBe('')
    expect(rowsOf(ls.stdout)).toEqual([
      ['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS'],
      [apiId.slice(0, 12), 'api', 'replicated', '1/1', 'busybox:fake'],
      [webId.slice(0, 12), 'web', 'replicated', '3/3', 'busybox:fake'],
    ])
    expect(await cli('service', 'ls', '-q')).toEqual({ code: 0, stdout: `${apiId}\n${webId}\n`, stderr: '' })
    const json = JSON.parse((await cli('service', 'ls', '--format', 'json')).stdout) as ServiceJson[]
    expect(json.map((s) => [s.id, s.spec.annotations.name, s.spec.mode.replicated?.replicas, s.spec.task.container.image])).toEqual([
      [apiId, 'api', 1, 'busybox:fake'],
      [webId, 'web', 3, 'busybox:fake'],
    ])
    for (const s of json) expect(s.meta.version.index).toMatch(/^\d+$/)

    const ps = rowsOf((await cli('service', 'ps', 'web')).stdout)
    expect(ps[0]).toEqual(['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'])
    expect(ps.slice(1).map((r) => [r[1], r[2], r[4]])).toEqual([1, 2, 3].map((slot) => [`web.${slot}`, 'busybox:fake', 'Running']))
    for (const r of ps.slice(1)) {
      expect(['m1', 'm2', 'm3', 'w1']).toContain(r[3])
      expect(r[5]).toMatch(/^Running (Less than a second|1 second|\d+ seconds|About a minute|\d+ minutes) ago$/)
    }
    const tasks = JSON.parse((await cli('service', 'ps', '--format', 'json', 'web')).stdout) as TaskJson[]
    expect(tasks.map((t) => [t.serviceId, t.slot, t.desiredState, t.status.state]).sort()).toEqual([1, 2, 3].map((slot) => [webId, slot, TaskState.RUNNING, TaskState.RUNNING]))
    expect((await cli('service', 'ps', '-q', 'web')).stdout.trim().split('\n').sort()).toEqual(tasks.map((t) => t.id).sort())

    const inspected = JSON.parse((await cli('service', 'inspect', 'web')).stdout) as ServiceJson[]
    expect(inspected.map((s) => [s.id, s.spec.annotations.labels])).toEqual([[webId, { tier: 'front' }]])
    expect(await cli('service', 'inspect', '--format', '{{.Spec.Name}} {{index .Spec.Labels "tier"}}', webId)).toEqual({ code: 0, stdout: 'web front\n', stderr: '' })
    expect(await cli('service', 'inspect', 'nope')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: NotFoundError: service nope not found\n' })
  })

  it('updates, scales and rolls back, each converging before it exits 0', async () => {
    const updated = await cli('service', 'update', '--env-add', 'COLOR=blue', 'web')
    expect(updated.code).toBe(0)
    const webId = lines(updated)[0] ?? ''
    expect(lines(updated).at(-1)).toBe(`verify: Service ${webId} converged`)
    expect((await cli('service', 'inspect', '--format', '{{json .Spec.Task.Container.Env}}', 'web')).stdout).toBe('["COLOR=blue"]\n')

    const scaled = await cli('service', 'scale', 'web=5')
    expect(scaled.code).toBe(0)
    expect(lines(scaled)[0]).toBe('web scaled to 5')
    expect(lines(scaled).at(-1)).toBe(`verify: Service ${webId} converged`)
    expect(await replicasOf('web')).toBe('5/5')

    const rolled = await cli('service', 'rollback', 'web')
    expect(rolled.code).toBe(0)
    expect(lines(rolled)[0]).toBe(webId)
    expect(lines(rolled).at(-1)).toBe('rollback: rollback completed')
    await until(async () => (await replicasOf('web')) === '3/3', 'web rolled back to 3 replicas')
    expect((await cli('service', 'inspect', '--format', '{{.Spec.Mode.Replicated.Replicas}} {{json .Spec.Task.Container.Env}}', 'web')).stdout).toBe('3 ["COLOR=blue"]\n')

    expect(await cli('service', 'scale', 'web=x')).toEqual({ code: 2, stdout: '', stderr: 'swarmkit: InvalidArgumentError: <service=replicas>: must be a non-negative integer, got "x"\n' })
  })

  it("prints a service's logs gathered from the nodes running its tasks", async () => {
    const created = await cli('service', 'create', '-d', '--name', 'talk', '--replicas', '2', 'busybox:fake', 'sh', '-c', 'echo one; echo two; sleep 3600')
    expect(created.code).toBe(0)
    await until(async () => (await replicasOf('talk')) === '2/2', 'talk running')
    await until(async () => lines(await cli('service', 'logs', '--raw', 'talk')).length === 4, 'four log lines')
    const logs = await cli('service', 'logs', 'talk')
    expect(logs.code).toBe(0)
    const tasks = JSON.parse((await cli('service', 'ps', '--format', 'json', 'talk')).stdout) as TaskJson[]
    const nodes = JSON.parse((await cli('node', 'ls', '--format', 'json')).stdout) as { id: string; description: { hostname: string } }[]
    const hostOf = new Map(nodes.map((n) => [n.id, n.description.hostname]))
    const prefix = (t: TaskJson): string => `talk.${t.slot}.${t.id.slice(0, 12)}@${hostOf.get(t.nodeId) ?? '?'}`
    expect(lines(logs).map((l) => l.replace(/ +\| /, ' | ')).sort()).toEqual(tasks.flatMap((t) => [`${prefix(t)} | one`, `${prefix(t)} | two`]).sort())
  })

  it("creates a service through a follower's socket, waiting for it to converge (the watch served by the follower)", async () => {
    const created = await cluster.cli([...cluster.host('m3'), 'service', 'create', '--name', 'viafollower', '--update-monitor', '200ms', 'busybox:fake', 'sleep', '3600'])
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const id = lines(created)[0] ?? ''
    expect(lines(created).at(-1)).toBe(`verify: Service ${id} converged`)
    expect(await cluster.cli([...cluster.host('m2'), 'service', 'ls', '-q', '--filter', 'name=viafollower'])).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' })
  })

  it('removes services, printing each name, and fails naming the first it cannot find', async () => {
    expect(await cli('service', 'rm', 'web', 'api', 'talk', 'viafollower')).toEqual({ code: 0, stdout: 'web\napi\ntalk\nviafollower\n', stderr: '' })
    expect(await cli('service', 'ls')).toEqual({ code: 0, stdout: 'ID   NAME   MODE   REPLICAS   IMAGE   PORTS\n', stderr: '' })
    expect(await cli('service', 'rm', 'web')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: NotFoundError: service web not found\n' })
  })

  it('deploys a stack from a compose file, lists its services and tasks, and removes it', async () => {
    const dir = join(cluster.dir, 'stack')
    await mkdir(dir)
    await writeFile(join(dir, 'token.txt'), 's3cret')
    await writeFile(
      join(dir, 'docker-compose.yml'),
      ['services:', '  web:', '    image: busybox:fake', '    command: sleep 3600', '    deploy:', '      replicas: 2', '    secrets: [token]', 'secrets:', '  token:', '    file: ./token.txt', ''].join('\n'),
    )
    const deployed = await cli('stack', 'deploy', '-c', join(dir, 'docker-compose.yml'), 'shop')
    expect(deployed).toEqual({ code: 0, stdout: 'Creating secret shop_token\nCreating network shop_default\nCreating service shop_web\n', stderr: '' })
    expect(await cli('stack', 'ls')).toEqual({ code: 0, stdout: 'NAME   SERVICES\nshop   1\n', stderr: '' })
    expect(JSON.parse((await cli('stack', 'ls', '--format', 'json')).stdout)).toEqual([{ name: 'shop', services: 1 }])
    await until(async () => (await replicasOf('shop_web')) === '2/2', 'shop_web running')
    const services = rowsOf((await cli('stack', 'services', 'shop')).stdout)
    expect(services.map((r) => r.slice(1, 5))).toEqual([
      ['NAME', 'MODE', 'REPLICAS', 'IMAGE'],
      ['shop_web', 'replicated', '2/2', 'busybox:fake'],
    ])
    expect((await cli('stack', 'ps', '--format', '{{.Name}} {{.DesiredState}}', 'shop')).stdout).toBe('shop_web.1 Running\nshop_web.2 Running\n')
    expect(await cli('secret', 'ls', '--format', '{{.Name}}')).toEqual({ code: 0, stdout: 'shop_token\n', stderr: '' })

    const removed = await cli('stack', 'rm', 'shop')
    expect(removed.code).toBe(0)
    expect(removed.stdout.split('\n').filter((l) => l !== '').sort()).toEqual(['Removing network shop_default', 'Removing secret shop_token', 'Removing service shop_web'])
    expect(await cli('stack', 'ls')).toEqual({ code: 0, stdout: 'NAME   SERVICES\n', stderr: '' })
    expect(await cli('stack', 'ps', 'shop')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: NotFoundError: nothing found in stack: shop\n' })
  })
})
