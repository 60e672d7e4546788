import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { DOCKER_CLIS, DockerRig, until } from './rig.ts'

const COMPOSE = `version: "3.8"
services:
  web:
    image: busybox:fake
    command: ["sleep", "3600"]
    networks: [front]
    secrets: [api_key]
    configs:
      - source: app_conf
        target: /etc/app.conf
    deploy:
      replicas: 2
      labels: {tier: web}
      resources:
        reservations: {cpus: "0.25", memory: 16M}
      placement:
        constraints: ["node.role == manager"]
      update_config: {parallelism: 1, delay: 1s, order: start-first}
      restart_policy: {condition: on-failure, delay: 2s, max_attempts: 3}
  worker:
    image: busybox:fake
    command: ["sleep", "3600"]
    networks: [front, back]
networks:
  front: {driver: overlay, attachable: true}
  back: {driver: overlay}
secrets:
  api_key: {file: ./api_key.txt}
configs:
  app_conf: {file: ./app.conf}
`

/** A stack on what exists already: an external network and secret, a global service. */
const EXTERNAL = `version: "3.8"
services:
  agent:
    image: busybox:fake
    command: ["sleep", "3600"]
    networks: [shared]
    secrets: [shared_key]
    deploy:
      mode: global
networks:
  shared: {external: true}
secrets:
  shared_key: {external: true}
`

const NS = 'com.docker.stack.namespace'

function rows(out: string): string[][] {
  return out
    .trim()
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => l.split(/ {2,}/).map((c) => c.trim()))
}

describe.each(DOCKER_CLIS)('docker stack ($version) from a compose file', (cli) => {
  let rig: DockerRig
  let dir: string
  beforeAll(async () => {
    rig = await DockerRig.start({ workers: 1 })
    dir = await rig.tempDir()
    await writeFile(join(dir, 'compose.yml'), COMPOSE)
    await writeFile(join(dir, 'api_key.txt'), 'k3y')
    await writeFile(join(dir, 'app.conf'), 'a=1\n')
    await writeFile(join(dir, 'external.yml'), EXTERNAL)
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('stack deploy creates the networks, secret, config and services with the deploy keys', async () => {
    const r = await rig.docker(cli, ['stack', 'deploy', '-c', 'compose.yml', 'app'], { cwd: dir })
    expect(r.code).toBe(0)
    // The CLI walks Go maps: the order of networks and of services varies.
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      'Creating config app_app_conf',
      'Creating network app_back',
      'Creating network app_front',
      'Creating secret app_api_key',
      'Creating service app_web',
      'Creating service app_worker',
    ])
    const m = rig.manager
    const front = await m.networks.get('app_front')
    expect(front.spec.attachable).toBe(true)
    expect(front.spec.annotations.labels).toEqual({ [NS]: 'app' })
    const secret = await m.secrets.get('app_api_key')
    const config = await m.configs.get('app_app_conf')
    expect(new TextDecoder().decode(config.spec.data)).toBe('a=1\n')
    const web = await m.services.get('app_web')
    // The CLI records the image it deployed under com.docker.stack.image.
    expect(web.spec.annotations.labels).toEqual({ [NS]: 'app', 'com.docker.stack.image': 'busybox:fake', tier: 'web' })
    expect(web.spec.mode).toEqual({ replicated: { replicas: 2 } })
    // Reservations only: the fake runtime of the rig refuses limits it cannot enforce.
    expect(web.spec.task.resources).toEqual({ reservations: { nanoCpus: 250_000_000, memoryBytes: 16 * 1024 * 1024 } })
    expect(web.spec.task.placement?.constraints).toEqual(['node.role == manager'])
    expect(web.spec.update).toMatchObject({ parallelism: 1, delayMs: 1000, order: 'start-first' })
    expect(web.spec.task.restart).toMatchObject({ condition: 'on-failure', delayMs: 2000, maxAttempts: 3 })
    expect(web.spec.task.networks?.map((n) => [n.target, n.aliases])).toEqual([[front.id, ['web']]])
    expect(web.spec.task.container?.secrets?.map((s) => [s.secretId, s.secretName, s.file.name])).toEqual([[secret.id, 'app_api_key', 'api_key']])
    expect(web.spec.task.container?.configs?.map((c) => [c.configId, c.configName, c.file?.name])).toEqual([[config.id, 'app_app_conf', '/etc/app.conf']])
    const worker = await m.services.get('app_worker')
    expect(worker.spec.task.networks?.map((n) => n.target).sort()).toEqual([front.id, (await m.networks.get('app_back')).id].sort())
  }, 120_000)

  it('stack ls, services and ps show the stack, its services and their running tasks', async () => {
    const m = rig.manager
    const web = await m.services.get('app_web')
    const worker = await m.services.get('app_worker')
    await until(async () => (await m.tasks.list({ serviceIds: [web.id, worker.id] })).filter((t) => t.status.state === TaskState.RUNNING).length === 3, '3 tasks running', 120_000)
    const ls = await rig.docker(cli, ['stack', 'ls'])
    expect(ls.code).toBe(0)
    expect(rows(ls.stdout).map((c) => c.slice(0, 2))).toEqual([['app', '2']])
    const services = await rig.docker(cli, ['stack', 'services', 'app'])
    expect(services.code).toBe(0)
    expect(rows(services.stdout).map((c) => c.slice(1, 5))).toEqual([
      ['app_web', 'replicated', '2/2', 'busybox:fake'],
      ['app_worker', 'replicated', '1/1', 'busybox:fake'],
    ])
    const ps = await rig.docker(cli, ['stack', 'ps', 'app', '--format', '{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}}'])
    expect(ps.stderr).toBe('')
    expect(ps.code).toBe(0)
    const lines = ps.stdout.trim().split('\n').sort()
    expect(lines.map((l) => l.split(' ').slice(0, 1).concat(l.split(' ').slice(2, 4)))).toEqual([
      ['app_web.1', 'Running', 'Running'],
      ['app_web.2', 'Running', 'Running'],
      ['app_worker.1', 'Running', 'Running'],
    ])
    const managerHost = (await m.nodes.get(m.nodeId)).description?.hostname
    for (const l of lines.filter((x) => x.startsWith('app_web'))) expect(l.split(' ')[1]).toBe(managerHost)
  }, 240_000)

  it('a second stack deploy updates the services in place', async () => {
    const before = (await rig.manager.services.get('app_web')).id
    const r = await rig.docker(cli, ['stack', 'deploy', '-c', 'compose.yml', 'app'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n').sort()).toEqual([`Updating service app_web (id: ${before})`, `Updating service app_worker (id: ${(await rig.manager.services.get('app_worker')).id})`])
  }, 120_000)

  it('stack rm removes the services, secret, config and networks', async () => {
    const r = await rig.docker(cli, ['stack', 'rm', 'app'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      'Removing config app_app_conf',
      'Removing network app_back',
      'Removing network app_front',
      'Removing secret app_api_key',
      'Removing service app_web',
      'Removing service app_worker',
    ])
    expect(await rig.manager.services.list()).toEqual([])
    expect(await rig.manager.secrets.list()).toEqual([])
    expect(await rig.manager.configs.list()).toEqual([])
    expect((await rig.manager.networks.list()).map((n) => n.spec.annotations.name)).toEqual(['ingress'])
    expect(rows((await rig.docker(cli, ['stack', 'ls'])).stdout)).toEqual([])
  }, 120_000)

  it('a stack uses external networks and secrets by name, and stack rm leaves them', async () => {
    const m = rig.manager
    const shared = await m.networks.create({ annotations: { name: 'shared' }, driverConfig: { name: 'overlay' }, attachable: true })
    const key = await m.secrets.create({ annotations: { name: 'shared_key' }, data: new TextEncoder().encode('k') })
    const r = await rig.docker(cli, ['stack', 'deploy', '-c', 'external.yml', 'ext'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('Creating service ext_agent\n')
    const agent = await m.services.get('ext_agent')
    expect(agent.spec.mode).toEqual({ global: {} })
    expect(agent.spec.task.networks?.map((n) => n.target)).toEqual([shared.id])
    expect(agent.spec.task.container?.secrets?.map((x) => x.secretId)).toEqual([key.id])
    const rm = await rig.docker(cli, ['stack', 'rm', 'ext'])
    expect(rm.stdout).toBe('Removing service ext_agent\n')
    expect((await m.networks.get('shared')).id).toBe(shared.id)
    expect((await m.secrets.get('shared_key')).id).toBe(key.id)
  }, 120_000)
})
