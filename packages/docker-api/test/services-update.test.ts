import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEBIAN_DOCKER, DockerRig } from './rig.ts'

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
