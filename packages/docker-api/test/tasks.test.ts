import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CLIS, DockerRig, until } from './rig.ts'

const SHELL = { path: ['/usr/bin', '/bin'] }

let rig: DockerRig
beforeAll(async () => {
  rig = await DockerRig.start({ runtime: 'process', node: { runtimeOptions: { process: { images: { 'shell:1': SHELL } } } } })
}, 120_000)
afterAll(async () => {
  await rig?.close()
})

const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '')

describe.each(DOCKER_CLIS)('tasks and service modes through docker ($version)', (cli) => {
  const n = DOCKER_CLIS.indexOf(cli)
  const global = `glob${n}`
  const job = `job${n}`
  const docker = (...args: string[]): ReturnType<DockerRig['docker']> => rig.docker(cli, args)

  it('a global service runs one task per node: ls shows global 1/1, ps names the task service.node', async () => {
    const c = await docker('service', 'create', '--detach', '--mode', 'global', '--name', global, 'shell:1', 'sh', '-c', 'echo "global on $(hostname)"; exec sleep 3600')
    expect(c.code).toBe(0)
    await until(async () => (await docker('service', 'ls', '--filter', `name=${global}`, '--format', '{{.Replicas}}')).stdout === '1/1\n', `${global} 1/1`)
    expect((await docker('service', 'ls', '--filter', `name=${global}`, '--format', '{{.Mode}}')).stdout).toBe('global\n')
    const ps = await docker('service', 'ps', global, '--filter', 'desired-state=running', '--no-trunc', '--format', '{{.Name}}|{{.Node}}|{{.DesiredState}}')
    expect(ps).toEqual({ code: 0, stdout: `${global}.${rig.manager.nodeId}|${hostname()}|Running\n`, stderr: '' })
  }, 240_000)

  it('docker inspect --type task gives the task as Docker JSON, and service logs <task> its lines', async () => {
    const ids = lines((await docker('service', 'ps', global, '-q', '--no-trunc')).stdout)
    expect(ids).toHaveLength(1)
    const id = ids[0] ?? ''
    const r = await docker('inspect', '--type', 'task', id)
    expect(r.code).toBe(0)
    const [task] = JSON.parse(r.stdout) as Record<string, unknown>[]
    const service = await rig.manager.services.get(global)
    expect(task).toMatchObject({
      ID: id,
      ServiceID: service.id,
      NodeID: rig.manager.nodeId,
      DesiredState: 'running',
      Status: { State: 'running', ContainerStatus: { ExitCode: 0 } },
      Spec: { ContainerSpec: { Image: 'shell:1' }, Runtime: 'container' },
    })
    expect(task).not.toHaveProperty('Slot')
    await until(async () => (await docker('service', 'logs', '--raw', id)).stdout === `global on ${hostname()}\n`, `the logs of task ${id}`)
    const stamped = await docker('service', 'logs', '--timestamps', '--tail', '1', global)
    expect(stamped.code).toBe(0)
    // The CLI names a global task's lines service.<slot 0>.task, as with Docker.
    expect(stamped.stdout).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z ${global}\\.0\\.${id.slice(0, 12)}@${hostname()}\\s+\\| global on ${hostname()}\\n$`))
    expect((await docker('service', 'rm', global)).code).toBe(0)
  }, 240_000)

  it('a failed update pauses (the CLI exits 1 with Docker\'s message) or, with failure action rollback, rolls back', async () => {
    const paused = `paused${n}`
    const back = `back${n}`
    for (const [name, action] of [[paused, 'pause'], [back, 'rollback']] as const) {
      const c = await docker('service', 'create', '--no-resolve-image', '--name', name, '--update-monitor', '1s', '--update-failure-action', action, 'shell:1', 'sleep', '3600')
      expect(c.code).toBe(0)
    }
    const p = await docker('service', 'update', '--no-resolve-image', '--image', 'nosuch:1', paused)
    expect(p.code).toBe(1)
    expect(p.stderr).toMatch(/^service update paused: update paused due to failure or early termination of task [a-z0-9]{25}\n$/)
    expect(JSON.parse((await docker('service', 'inspect', '--format', '{{json .UpdateStatus.State}}', paused)).stdout)).toBe('paused')

    const r = await docker('service', 'update', '--no-resolve-image', '--image', 'nosuch:1', back)
    expect(r.code).toBe(0)
    expect(lines(r.stdout).at(-1)).toBe('rollback: rollback completed')
    const status = await docker('service', 'inspect', '--format', '{{.UpdateStatus.State}} {{.Spec.TaskTemplate.ContainerSpec.Image}}', back)
    expect(status.stdout).toBe('rollback_completed shell:1\n')
    for (const name of [paused, back]) expect((await docker('service', 'rm', name)).code).toBe(0)
  }, 240_000)

  it('jobs run to completion: the CLI waits for "job complete" and ls counts as SwarmKit does', async () => {
    const r = await docker('service', 'create', '--mode', 'replicated-job', '--replicas', '2', '--name', job, 'shell:1', 'sh', '-c', 'echo done')
    expect(r.code).toBe(0)
    expect(lines(r.stdout).at(-1)).toBe('job complete')
    const ps = await docker('service', 'ps', '--no-trunc', job, '--format', '{{.DesiredState}}|{{.CurrentState}}|{{.Error}}')
    expect(lines(ps.stdout), ps.stdout).toHaveLength(2)
    for (const l of lines(ps.stdout)) expect(l).toMatch(/^Complete\|Complete .* ago\|$/)
    // --replicas 2 sets both counts; a job without them gets MaxConcurrent 1 and TotalCompletions 1.
    const once = `once${n}`
    const g = `gjob${n}`
    for (const args of [['--mode', 'replicated-job', '--name', once], ['--mode', 'global-job', '--name', g]]) {
      expect((await docker('service', 'create', ...args, 'shell:1', 'sh', '-c', 'echo done')).code).toBe(0)
    }
    const ls = await docker('service', 'ls', '--filter', `name=${job}`, '--filter', `name=${once}`, '--filter', `name=${g}`, '--format', '{{.Name}}|{{.Mode}}|{{.Replicas}}')
    expect(lines(ls.stdout).sort()).toEqual([`${g}|global job|0/0 (1/1 completed)`, `${job}|replicated job|0/2 (2/2 completed)`, `${once}|replicated job|0/1 (1/1 completed)`].sort())
    for (const name of [job, once, g]) expect((await docker('service', 'rm', name)).code).toBe(0)
  }, 240_000)
})
