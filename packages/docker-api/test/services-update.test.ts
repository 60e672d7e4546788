import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEBIAN_DOCKER, DOCKER_CLIS, DockerRig } from './rig.ts'

let rig: DockerRig
beforeAll(async () => {
  rig = await DockerRig.start()
}, 120_000)
afterAll(async () => {
  await rig?.close()
})

describe.skipIf(DEBIAN_DOCKER === undefined)('docker service update of a service made through the library', () => {
  it('keeps what Docker JSON cannot express (placement strategy, job schedule) across a read-edit-write by the CLI', async () => {
    const cli = DEBIAN_DOCKER
    if (cli === undefined) throw new Error('no docker CLI')
    await rig.manager.services.create({
      annotations: { name: 'packed' },
      mode: { replicated: { replicas: 1 } },
      task: { container: { image: 'busybox:fake', command: ['sleep', '3600'] }, placement: { strategy: 'binpack', constraints: ['node.role==manager'] } },
    })
    await rig.manager.services.create({
      annotations: { name: 'nightly' },
      mode: { replicatedJob: { maxConcurrent: 1, totalCompletions: 1, schedule: { cron: '0 3 * * *' } } },
      task: { container: { image: 'busybox:fake', command: ['true'] } },
    })
    const a = await rig.docker(cli, ['service', 'update', '--detach', '--env-add', 'A=1', '--constraint-add', 'node.role!=worker', 'packed'])
    expect(a).toEqual({ code: 0, stdout: 'packed\n', stderr: '' })
    const b = await rig.docker(cli, ['service', 'update', '--detach', '--env-add', 'B=2', 'nightly'])
    expect(b).toEqual({ code: 0, stdout: 'nightly\n', stderr: '' })

    const packed = await rig.manager.services.get('packed')
    expect(packed.spec.task.container?.env).toEqual(['A=1'])
    // The CLI sorts the constraints it writes back.
    expect(packed.spec.task.placement).toEqual({ strategy: 'binpack', constraints: ['node.role!=worker', 'node.role==manager'] })
    const nightly = await rig.manager.services.get('nightly')
    expect(nightly.spec.task.container?.env).toEqual(['B=2'])
    expect(nightly.spec.mode).toEqual({ replicatedJob: { maxConcurrent: 1, totalCompletions: 1, schedule: { cron: '0 3 * * *' } } })
  }, 240_000)

  it('service update --force bumps ForceUpdate, and --rollback-parallelism lands in the rollback config', async () => {
    const cli = DEBIAN_DOCKER
    if (cli === undefined) throw new Error('no docker CLI')
    const r = await rig.docker(cli, ['service', 'update', '--detach', '--force', '--rollback-parallelism', '3', 'packed'])
    expect(r).toEqual({ code: 0, stdout: 'packed\n', stderr: '' })
    const packed = await rig.manager.services.get('packed')
    expect(packed.spec.task.forceUpdate).toBe(1)
    expect(packed.spec.rollback?.parallelism).toBe(3)
  }, 240_000)
})

describe.each(DOCKER_CLIS)('docker service create with every common flag ($version)', (cli) => {
  const n = DOCKER_CLIS.indexOf(cli)

  it('translates the CLI request into the api spec field by field, references resolved to IDs', async () => {
    const tag = `refs${n}`
    const secret = await rig.manager.secrets.create({ annotations: { name: `tok${n}` }, data: new TextEncoder().encode('s3cret') })
    const config = await rig.manager.configs.create({ annotations: { name: `conf${n}` }, data: new TextEncoder().encode('k=v') })
    const network = await rig.manager.networks.create({ annotations: { name: `front${n}` }, driverConfig: { name: 'overlay' } })
    const r = await rig.docker(cli, [
      'service', 'create', '--detach', '--name', tag,
      '--secret', `source=tok${n},target=token,mode=0400`, '--config', `source=conf${n},target=/etc/app.conf`, '--network', `front${n}`,
      '--mount', 'type=volume,source=data,target=/data', '--limit-cpu', '0.5', '--reserve-memory', '32M',
      '--restart-condition', 'on-failure', '--restart-delay', '2s', '--restart-max-attempts', '3',
      '--placement-pref', 'spread=node.labels.zone', '--constraint', 'node.role==manager',
      '--health-cmd', 'true', '--health-interval', '5s', '--stop-grace-period', '20s', '--stop-signal', 'SIGINT',
      '--hostname', 'h', '--env', 'A=1', '--label', 'l=v', '--container-label', 'cl=v', '--dns', '1.1.1.1', '--host', 'db:10.0.0.2',
      '--user', '1000', '--workdir', '/w', '--read-only', '--init', '--publish', 'published=9000,target=80,mode=host',
      '--update-parallelism', '2', '--update-delay', '3s', '--update-order', 'start-first', '--update-failure-action', 'rollback',
      'busybox:fake', 'sleep', '3600',
    ])
    expect(r.code).toBe(0)
    const s = await rig.manager.services.get(tag)
    expect(s.spec.annotations).toEqual({ name: tag, labels: { l: 'v' } })
    expect(s.spec.task).toMatchObject({
      container: {
        image: 'busybox:fake',
        args: ['sleep', '3600'],
        labels: { cl: 'v' },
        hostname: 'h',
        env: ['A=1'],
        dir: '/w',
        user: '1000',
        init: true,
        readOnly: true,
        stopSignal: 'SIGINT',
        stopGracePeriodMs: 20_000,
        mounts: [{ type: 'volume', source: 'data', target: '/data' }],
        healthcheck: { test: ['CMD-SHELL', 'true'], intervalMs: 5000 },
        hosts: ['10.0.0.2 db'],
        dnsConfig: { nameservers: ['1.1.1.1'] },
        secrets: [{ secretId: secret.id, secretName: `tok${n}`, file: { name: 'token', uid: '0', gid: '0', mode: 0o400 } }],
        configs: [{ configId: config.id, configName: `conf${n}`, file: { name: '/etc/app.conf', uid: '0', gid: '0', mode: 0o444 } }],
      },
      resources: { limits: { nanoCpus: 500_000_000 }, reservations: { memoryBytes: 32 * 1024 * 1024 } },
      restart: { condition: 'on-failure', delayMs: 2000, maxAttempts: 3 },
      placement: { constraints: ['node.role==manager'], preferences: [{ spread: { spreadDescriptor: 'node.labels.zone' } }] },
      networks: [{ target: network.id }],
    })
    expect(s.spec.update).toMatchObject({ parallelism: 2, delayMs: 3000, order: 'start-first', failureAction: 'rollback' })
    expect(s.spec.endpoint).toEqual({ mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 9000, publishMode: 'host' }] })
    expect((await rig.docker(cli, ['service', 'rm', tag])).code).toBe(0)
  }, 240_000)
})
