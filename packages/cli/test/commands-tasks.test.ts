import { describe, expect, it } from 'vitest'
import { CliRig, cliOf, rowsOf, swarmkit } from './commands-rig.ts'

describe('swarmkit service logs, service ps history, node ps', { timeout: 60_000 }, () => {
  const rig = new CliRig()

  it("prints a service's logs with Docker's prefix, raw, and a tail; --follow until Ctrl-C", async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    const created = await cli('service', 'create', '--name', 'talk', '--replicas', '2', '--update-monitor', '100ms', 'busybox:fake', 'sh', '-c', 'echo one; echo two; sleep 3600')
    expect(created.code).toBe(0)
    const tasks = await m.tasks.list({ serviceIds: [(await m.services.get('talk')).id] })
    const prefix = (slot: number): string => `talk.${slot}.${tasks.find((t) => t.slot === slot)?.id.slice(0, 12) ?? '?'}@m1    | `
    const logs = await cli('service', 'logs', 'talk')
    expect(logs.stderr).toBe('')
    expect(logs.stdout.trimEnd().split('\n').sort()).toEqual([`${prefix(1)}one`, `${prefix(1)}two`, `${prefix(2)}one`, `${prefix(2)}two`].sort())
    expect((await cli('service', 'logs', '--raw', '--tail', '1', 'talk')).stdout).toBe('two\ntwo\n')
    expect((await cli('service', 'logs', '--no-task-ids', '--tail', '1', 'talk')).stdout.trimEnd().split('\n').sort()).toEqual(['talk.1@m1    | two', 'talk.2@m1    | two'])
    const stop = new AbortController()
    const followed = await swarmkit(['--host', `unix://${m.controlSocketPath}`, 'service', 'logs', '--follow', '--raw', '--tail', '1', 'talk'], {
      signal: stop.signal,
      onStdout: (out) => {
        if (out.split('\n').length > 2) stop.abort() // both tasks' last line: Ctrl-C
      },
    })
    expect(followed).toEqual({ code: 0, stdout: 'two\ntwo\n', stderr: '' })
    expect(await cli('service', 'logs', '--tail', 'x', 'talk')).toEqual({ code: 2, stdout: '', stderr: 'swarmkit: InvalidArgumentError: --tail: must be a non-negative integer, got "x"\n' })
  })

  it('shows replaced tasks under the current one of their slot, and the tasks of a node', async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    expect((await cli('service', 'create', '--name', 'web', '--update-monitor', '100ms', 'busybox:fake', 'sleep', '3600')).code).toBe(0)
    expect((await cli('service', 'update', '--force', 'web')).code).toBe(0)
    const service = await m.services.get('web')
    const tasks = [...(await m.tasks.list({ serviceIds: [service.id] }))].sort((a, b) => b.meta.createdAt - a.meta.createdAt)
    expect(tasks.length).toBe(2)
    const rows = rowsOf((await cli('service', 'ps', 'web')).stdout)
    expect(rows.slice(1).map((r) => [r[0], r[1], r[4]])).toEqual([
      [tasks[0]?.id.slice(0, 12), 'web.1', 'Running'],
      [tasks[1]?.id.slice(0, 12), '\\_ web.1', 'Shutdown'],
    ])
    const running = rowsOf((await cli('service', 'ps', '-f', 'desired-state=running', 'web')).stdout)
    expect(running.slice(1).map((r) => r[0])).toEqual([tasks[0]?.id.slice(0, 12)])
    const onNode = rowsOf((await cli('node', 'ps', 'm1')).stdout)
    expect(onNode.slice(1).map((r) => [r[1], r[3]])).toEqual([
      ['web.1', 'm1'],
      ['\\_ web.1', 'm1'],
    ])
    expect((await cli('node', 'ps', '-q', m.nodeId)).stdout).toBe(`${tasks[0]?.id ?? ''}\n${tasks[1]?.id ?? ''}\n`)
    expect(await cli('service', 'ps', '-f', 'color=red', 'web')).toEqual({ code: 2, stdout: '', stderr: 'swarmkit: InvalidArgumentError: --filter: unknown filter "color": use desired-state or node\n' })
  })
})
