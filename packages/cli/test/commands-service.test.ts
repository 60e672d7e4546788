import { describe, expect, it } from 'vitest'
import { TaskState } from '@swarmkit-ts/api'
import { CliRig, cliOf, rowsOf, swarmkit } from './commands-rig.ts'

/** The first and the last line of an output. */
const firstAndLast = (out: string): [string | undefined, string | undefined] => {
  const lines = out.trimEnd().split('\n')
  return [lines[0], lines.at(-1)]
}

describe('swarmkit service', { timeout: 60_000 }, () => {
  const rig = new CliRig()

  it('creates a service, waits for it to converge, lists it and its tasks, inspects and removes it', async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    const created = await cli('service', 'create', '--name', 'web', '--replicas', '3', '-e', 'A=1', '--label', 'tier=front', '--update-monitor', '100ms', '-p', '8080:80', 'busybox:fake', 'sh', '-c', 'sleep 3600')
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const [id, ...rest] = created.stdout.trimEnd().split('\n')
    const service = await m.services.get('web')
    expect(id).toBe(service.id)
    expect(rest.at(-1)).toBe(`verify: Service ${service.id} converged`)
    expect(service.spec.mode).toEqual({ replicated: { replicas: 3 } })
    expect(service.spec.task.container?.env).toEqual(['A=1'])
    expect(service.spec.task.container?.command).toEqual(['sh', '-c', 'sleep 3600'])
    expect(service.spec.annotations.labels).toEqual({ tier: 'front' })
    expect(service.spec.update?.monitorMs).toBe(100)
    expect(service.spec.endpoint?.ports).toEqual([{ targetPort: 80, publishedPort: 8080, protocol: 'tcp', publishMode: 'ingress' }])

    const ls = await cli('service', 'ls')
    expect(ls.code).toBe(0)
    expect(rowsOf(ls.stdout)).toEqual([
      ['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS'],
      [service.id.slice(0, 12), 'web', 'replicated', '3/3', 'busybox:fake', '*:8080->80/tcp'],
    ])
    expect((await cli('service', 'ls', '-q')).stdout).toBe(`${service.id}\n`)
    const json = JSON.parse((await cli('service', 'ls', '--format', 'json')).stdout) as { id: string; spec: { annotations: { name: string } }; meta: { version: { index: string } } }[]
    expect(json.map((s) => [s.id, s.spec.annotations.name])).toEqual([[service.id, 'web']])
    expect(json[0]?.meta.version.index).toBe(service.meta.version.index.toString())
    expect(JSON.parse((await cli('--format', 'json', 'service', 'ls')).stdout)).toEqual(json)

    const ps = await cli('service', 'ps', 'web')
    const tasks = await m.tasks.list({ serviceIds: [service.id] })
    const rows = rowsOf(ps.stdout)
    expect(rows[0]).toEqual(['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'])
    expect(rows.slice(1).map((r) => [r[1], r[2], r[3], r[4]])).toEqual([
      ['web.1', 'busybox:fake', 'm1', 'Running'],
      ['web.2', 'busybox:fake', 'm1', 'Running'],
      ['web.3', 'busybox:fake', 'm1', 'Running'],
    ])
    for (const r of rows.slice(1)) expect(r[5]).toMatch(/^Running (Less than a second|\d+ seconds?) ago$/)
    expect(new Set(rows.slice(1).map((r) => r[0]))).toEqual(new Set(tasks.map((t) => t.id.slice(0, 12))))
    expect(new Set((await cli('service', 'ps', '-q', 'web')).stdout.trimEnd().split('\n'))).toEqual(new Set(tasks.map((t) => t.id)))

    const psJson = JSON.parse((await cli('service', 'ps', '--format', 'json', 'web')).stdout) as { id: string; serviceId: string }[]
    expect(new Set(psJson.map((t) => t.id))).toEqual(new Set(tasks.map((t) => t.id)))
    expect(new Set(psJson.map((t) => t.serviceId))).toEqual(new Set([service.id]))

    const inspected = JSON.parse((await cli('service', 'inspect', 'web')).stdout) as { id: string; spec: { task: { container: { image: string } } } }[]
    expect(inspected.map((s) => [s.id, s.spec.task.container.image])).toEqual([[service.id, 'busybox:fake']])

    const removed = await cli('service', 'rm', 'web')
    expect(removed).toEqual({ code: 0, stdout: 'web\n', stderr: '' })
    expect(await m.services.list()).toEqual([])
  })

  it('updates, scales and rolls back, each waiting to converge; --detach returns the id at once', async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    const detached = await cli('service', 'create', '-d', '--name', 'api', '--update-monitor', '100ms', 'busybox:fake', 'sleep', '3600')
    const api = await m.services.get('api')
    expect(detached).toEqual({ code: 0, stdout: `${api.id}\n`, stderr: '' })

    const updated = await cli('service', 'update', '--env-add', 'B=2', '--container-label-add', 'c=1', '--update-parallelism', '2', '--restart-condition', 'on-failure', 'api')
    expect(updated.stderr).toBe('')
    expect(firstAndLast(updated.stdout)).toEqual([api.id, `verify: Service ${api.id} converged`])
    const after = await m.services.get('api')
    expect(after.spec.task.container?.labels).toEqual({ c: '1' })
    expect(after.spec.task.container?.env).toEqual(['B=2'])
    expect(after.spec.update?.parallelism).toBe(2)
    expect(after.spec.task.restart?.condition).toBe('on-failure')

    const scaled = await cli('service', 'scale', 'api=2')
    expect(firstAndLast(scaled.stdout)).toEqual(['api scaled to 2', `verify: Service ${api.id} converged`])
    const running = (await m.tasks.list({ serviceIds: [api.id] })).filter((t) => t.desiredState === TaskState.RUNNING && t.status.state === TaskState.RUNNING)
    expect(running.length).toBe(2)

    const rolled = await cli('service', 'rollback', 'api')
    expect(rolled.code).toBe(0)
    expect((await m.services.get('api')).spec.mode).toEqual({ replicated: { replicas: 1 } }) // scale was the last update
    expect(firstAndLast(rolled.stdout)).toEqual([api.id, 'rollback: rollback completed'])
  })

  it('lists a global service with one task per node, named after the node; filters listings', async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    const created = await cli('service', 'create', '-q', '--name', 'agent', '--mode', 'global', '--update-monitor', '100ms', 'busybox:fake', 'sleep', '3600')
    const g = await m.services.get('agent')
    expect(created).toEqual({ code: 0, stdout: `${g.id}\n`, stderr: '' })
    expect(rowsOf((await cli('service', 'ls')).stdout)[1]).toEqual([g.id.slice(0, 12), 'agent', 'global', '1/1', 'busybox:fake'])
    expect(rowsOf((await cli('service', 'ps', 'agent')).stdout)[1]?.slice(1, 5)).toEqual([`agent.${m.nodeId}`, 'busybox:fake', 'm1', 'Running'])
    const other = await cli('service', 'create', '-d', '--name', 'api', '--label', 'tier=back', 'busybox:fake')
    const api = await m.services.get('api')
    expect(other.stdout).toBe(`${api.id}\n`)
    expect((await cli('service', 'ls', '-q', '-f', 'mode=global')).stdout).toBe(`${g.id}\n`)
    expect((await cli('service', 'ls', '-q', '-f', 'name=ap')).stdout).toBe(`${api.id}\n`)
    expect((await cli('service', 'ls', '-q', '-f', 'label=tier')).stdout).toBe(`${api.id}\n`)
    expect((await cli('service', 'ls', '-q', '-f', 'name=ap', '-f', 'name=ag')).stdout).toBe(`${g.id}\n${api.id}\n`)
    expect(await cli('service', 'ls', '-f', 'mode=sometimes')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'swarmkit: InvalidArgumentError: --filter: must be one of replicated, global, replicated-job, global-job, got "sometimes"\n',
    })
    expect((await cli('node', 'ls', '-q', '-f', 'role=worker')).stdout).toBe('')
    expect((await cli('node', 'ls', '-q', '-f', 'role=manager')).stdout).toBe(`${m.nodeId}\n`)
    expect(await cli('network', 'ls', '-f', 'driver=overlay')).toEqual({ code: 2, stdout: '', stderr: 'swarmkit: InvalidArgumentError: --filter: unknown filter "driver": use name, id, label\n' })
  })

  it('turns resource, placement, mount, network and secret flags into the spec (detached: the fake runtime has no limits)', async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    expect((await swarmkit(['--host', `unix://${m.controlSocketPath}`, 'secret', 'create', 'pw', '-', '--label', 'k=v'], { stdin: 'hunter2' })).stderr).toBe('')
    expect((await cli('network', 'create', '--subnet', '10.9.0.0/24', 'back')).code).toBe(0)
    const created = await cli('service', 'create', '-d', '--name', 'limited', '--limit-memory', '64m', '--limit-cpu', '0.5', '--reserve-memory', '8m',
      '--constraint', 'node.role==manager', '--mount', 'type=bind,source=/srv,target=/data,readonly', '--secret', 'source=pw,target=pass,mode=0400',
      '--network', 'back', '--mode', 'global', '--restart-max-attempts', '3', '--restart-delay', '1m30s', 'busybox:fake')
    expect(created.stderr).toBe('')
    const s = await m.services.get('limited')
    const secret = await m.secrets.get('pw')
    const network = await m.networks.get('back')
    expect(created.stdout).toBe(`${s.id}\n`)
    expect(s.spec.mode).toEqual({ global: {} })
    expect(s.spec.task.resources).toEqual({ limits: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 500_000_000 }, reservations: { memoryBytes: 8 * 1024 * 1024 } })
    expect(s.spec.task.placement?.constraints).toEqual(['node.role==manager'])
    expect(s.spec.task.restart).toEqual({ maxAttempts: 3, delayMs: 90_000 })
    expect(s.spec.task.container?.mounts).toEqual([{ type: 'bind', source: '/srv', target: '/data', readOnly: true }])
    expect(s.spec.task.container?.secrets).toEqual([{ secretId: secret.id, secretName: 'pw', file: { name: 'pass', mode: 0o400 } }])
    expect(s.spec.task.networks).toEqual([{ target: network.id }])
    expect(await cli('service', 'create', '-d', '--name', 'y', '--secret', 'missing', 'busybox:fake')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: NotFoundError: secret missing not found\n' })
    expect(await cli('service', 'create', '-d', '--name', 'y', '--mode', 'global', '--replicas', '2', 'busybox:fake')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'swarmkit: InvalidArgumentError: --replicas: cannot be used with --mode global\n',
    })
  })

  it('answers a missing service, a bad flag value and an unknown flag with one line and an exit code', async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    expect(await cli('service', 'inspect', 'nope')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: NotFoundError: service nope not found\n' })
    expect(await cli('service', 'create', '--name', 'x', '--replicas', 'three', 'busybox')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'swarmkit: InvalidArgumentError: --replicas: must be a non-negative integer, got "three"\n',
    })
    expect(await cli('service', 'create', '--name', 'x', '--update-delay', '10 parsecs', 'busybox')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'swarmkit: InvalidArgumentError: --update-delay: must be a duration such as 10s, 1m30s or 500ms, got "10 parsecs"\n',
    })
    expect(await cli('service', 'ls', '--bogus')).toEqual({ code: 2, stdout: '', stderr: "swarmkit: UsageError: unknown option '--bogus'\n" })
    expect(await cli('service', 'frob')).toEqual({ code: 2, stdout: '', stderr: "swarmkit: UsageError: unknown command 'frob'\n" })
    const dup = await cli('service', 'create', '-d', '--name', 'x', 'busybox')
    expect(dup.code).toBe(0)
    expect(await cli('service', 'create', '-d', '--name', 'x', 'busybox')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: AlreadyExistsError: service name "x" is already in use\n' })
    const debug = await cliOf(m)('--debug', 'service', 'inspect', 'nope')
    expect(debug.code).toBe(1)
    expect(debug.stderr.split('\n')[0]).toBe('swarmkit: NotFoundError: service nope not found')
    expect(debug.stderr.split('\n')[1]).toBe('NotFoundError: service nope not found')
  })
})
