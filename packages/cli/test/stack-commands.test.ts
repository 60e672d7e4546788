import { join } from 'node:path'
import { Readable } from 'node:stream'
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { NotFoundError, TaskState } from '@swarmkit-ts/api'
import type { ControlClient } from '@swarmkit-ts/core'
import { addStackCommands } from '../src/commands/stack.ts'
import { run, type RunIo } from '../src/index.ts'
import type { CommandContext, OutputFormat } from '../src/context.ts'
import { FIXTURES, StackRig } from './stack-rig.ts'

interface Output {
  readonly stdout: string
  readonly stderr: string
}

/** Runs `swarmkit stack argv…` through {@link addStackCommands} against `control`. */
async function stack(control: ControlClient, argv: readonly string[], opts: { format?: OutputFormat; quiet?: boolean; env?: Record<string, string>; stderr?: string[] } = {}): Promise<Output> {
  let stdout = ''
  let stderr = ''
  const ctx: CommandContext = {
    io: { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => opts.stderr?.push(s) ?? (stderr += s) }, env: opts.env ?? {} },
    control: () => Promise.resolve(control),
    format: opts.format ?? 'table',
    quiet: opts.quiet ?? false,
    debug: false,
    signal: AbortSignal.timeout(60_000),
  }
  const program = new Command('swarmkit').exitOverride()
  addStackCommands(program, () => ctx)
  await program.parseAsync(['stack', ...argv], { from: 'user' })
  return { stdout, stderr }
}

const DEPRECATED = "Ignoring deprecated options:\n\ncontainer_name: Setting the container name is not supported.\n\nexpose: Exposing ports is unnecessary - services on the same network can access each other's containers on any port.\n"

const rowsOf = (table: string): string[][] => table.trimEnd().split('\n').map((l) => l.split(/ {3,}/))

describe('swarmkit stack', () => {
  const rig = new StackRig()

  it('deploy, ls, services, ps, rm', async () => {
    const control = await rig.start()
    const full = join(FIXTURES, 'good', 'full', 'docker-compose.yml')
    const deployed = await stack(control, ['deploy', '-c', full, 'shop'], { env: { WEB_TAG: '1.37' } })
    expect(deployed).toEqual({
      stdout: [
        'Creating secret shop_api_key',
        'Creating config shop_site',
        'Creating network shop_back',
        'Creating network shop_default',
        'Creating network shop_front',
        'Creating service shop_migrate',
        'Creating service shop_web',
        'Creating service shop_worker',
        '',
      ].join('\n'),
      stderr: 'Ignoring unsupported options: restart\n',
    })
    expect(await stack(control, ['deploy', '-c', full, 'shop'], { env: { WEB_TAG: '1.37' } })).toEqual({ stdout: '', stderr: 'Ignoring unsupported options: restart\n' })

    const ls = await stack(control, ['ls'])
    expect(rowsOf(ls.stdout)).toEqual([
      ['NAME', 'SERVICES'],
      ['shop', '3'],
    ])
    expect(JSON.parse((await stack(control, ['ls'], { format: 'json' })).stdout)).toEqual([{ name: 'shop', services: 3 }])

    const services = rowsOf((await stack(control, ['services', 'shop'])).stdout)
    expect(services[0]).toEqual(['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS'])
    expect(services.slice(1).map((r) => [r[1], r[2], r[4]])).toEqual([
      ['shop_migrate', 'replicated job', 'busybox:1.36'],
      ['shop_web', 'replicated', 'busybox:1.37'],
      ['shop_worker', 'global', 'busybox:1.36'],
    ])
    const ids = (await stack(control, ['services', 'shop'], { quiet: true })).stdout.trimEnd().split('\n')
    expect(ids).toEqual((await control.services.list({ labels: { 'com.docker.stack.namespace': 'shop' } })).map((s) => s.id))

    const ps = rowsOf((await stack(control, ['ps', 'shop'])).stdout)
    expect(ps[0]).toEqual(['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'])
    const tasks = await control.tasks.list({ serviceIds: ids })
    expect(ps.length - 1).toBe(tasks.length)

    expect(await stack(control, ['rm', 'shop'])).toEqual({
      stdout: [
        'Removing service shop_migrate',
        'Removing service shop_web',
        'Removing service shop_worker',
        'Removing secret shop_api_key',
        'Removing config shop_site',
        'Removing network shop_back',
        'Removing network shop_default',
        'Removing network shop_front',
        '',
      ].join('\n'),
      stderr: '',
    })
    expect(await stack(control, ['rm', 'shop'])).toEqual({ stdout: '', stderr: 'Nothing found in stack: shop\n' })
    expect(await stack(control, ['services', 'shop'])).toEqual({ stdout: '', stderr: 'Nothing found in stack: shop\n' })
    expect(await stack(control, ['services', 'shop'], { format: 'json' })).toEqual({ stdout: '', stderr: 'Nothing found in stack: shop\n' })
    await expect(stack(control, ['ps', 'shop'])).rejects.toThrow(new NotFoundError('stack', 'shop', { message: 'nothing found in stack: shop' }))
    expect(await stack(control, ['ls'])).toEqual({ stdout: 'NAME   SERVICES\n', stderr: '' })
  })

  it('merges several -c files in order, and --prune removes the services the files no longer name', async () => {
    const control = await rig.start()
    const dir = join(FIXTURES, 'good', 'override')
    const out = await stack(control, ['deploy', '-c', join(dir, 'base.yml'), '-c', join(dir, 'prod.yml'), 'o'], { env: { REPLICAS: '2' } })
    expect(out).toEqual({ stdout: 'Creating network o_default\nCreating service o_app\n', stderr: '' })
    const app = await control.services.get('o_app')
    expect([app.spec.mode, app.spec.task.container?.image]).toEqual([{ replicated: { replicas: 2 } }, 'busybox:2'])

    const redeploy = join(FIXTURES, 'good', 'redeploy')
    await stack(control, ['deploy', '-c', join(redeploy, 'v1.yml'), 'r'])
    const worker = await control.services.get('r_worker')
    const api = await control.services.get('r_api')
    expect(await stack(control, ['deploy', '--prune', '-c', join(redeploy, 'v2.yml'), 'r'])).toEqual({
      stdout: `Removing service r_worker\nUpdating secret r_token\nUpdating service r_api (id: ${api.id})\nCreating service r_cache\n`,
      stderr: '',
    })
    expect((await control.services.list()).map((s) => s.spec.annotations.name)).toEqual(['o_app', 'r_api', 'r_cache'])
    expect(worker.spec.annotations.name).toBe('r_worker')
  })

  it('deploy --detach=false returns once the changed services run', async () => {
    const control = await rig.start()
    const out = await stack(control, ['deploy', '--detach=false', '-c', join(FIXTURES, 'good', 'running', 'docker-compose.yml'), 'w'])
    expect(out.stdout.split('\n').slice(0, 3)).toEqual(['Creating network w_default', 'Creating service w_api', 'Creating service w_worker'])
    const converged = out.stdout.split('\n').filter((l) => l.startsWith('verify: Service '))
    expect(converged).toEqual([`verify: Service ${(await control.services.get('w_api')).id} converged`, `verify: Service ${(await control.services.get('w_worker')).id} converged`])
    for (const [name, replicas] of [['w_api', 2], ['w_worker', 1]] as const) {
      const service = await control.services.get(name)
      const tasks = await control.tasks.list({ serviceIds: [service.id], desiredStates: [TaskState.RUNNING] })
      expect(tasks.map((t) => t.status.state)).toEqual(Array.from({ length: replicas }, () => TaskState.RUNNING))
    }
  }, 30_000)

  it('prints warnings on stderr and refuses a missing external network before creating anything', async () => {
    const control = await rig.start()
    const stderr: string[] = []
    const failed = stack(control, ['deploy', '-c', join(FIXTURES, 'good', 'misc', 'docker-compose.yml'), 'm'], { env: { API_TAG: '1' }, stderr })
    await expect(failed).rejects.toBeInstanceOf(NotFoundError)
    await expect(failed).rejects.toThrow('network platform-net is declared as external, but could not be found: create it before deploying the stack')
    expect(stderr).toEqual(['Ignoring unsupported options: build, links, restart\n', `${DEPRECATED}\n`])
    expect(await control.services.list()).toEqual([])
    expect(await control.configs.list()).toEqual([])
  })

  it('fails with the compose error and changes nothing', async () => {
    const control = await rig.start()
    await expect(stack(control, ['deploy', '-c', join(FIXTURES, 'bad', 'replicas-string.yml'), 'app'])).rejects.toThrow(
      'replicas-string.yml:5: services.web.deploy.replicas: must be an integer',
    )
    await expect(stack(control, ['deploy', 'app'])).rejects.toThrow('--compose-file: please specify a compose file (with --compose-file)')
    await expect(stack(control, ['deploy', '-c', join(FIXTURES, 'good', 'full', 'docker-compose.yml'), 'bad name'])).rejects.toThrow('<stack>: invalid stack name "bad name"')
    expect(await control.services.list()).toEqual([])
  })

  it('runs through swarmkit itself: output, one-line errors and exit codes', async () => {
    await rig.start()
    const host = ['--host', `unix://${rig.manager.controlSocketPath}`]
    const io = (): { out: string[]; err: string[]; io: RunIo } => {
      const out: string[] = []
      const err: string[] = []
      return { out, err, io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, env: {} } }
    }
    const ok = io()
    expect(await run([...host, 'stack', 'deploy', '-c', join(FIXTURES, 'good', 'redeploy', 'v1.yml'), 'e'], ok.io)).toBe(0)
    expect(ok.out.join('')).toBe('Creating secret e_token\nCreating network e_default\nCreating service e_api\nCreating service e_worker\n')
    const ls = io()
    expect(await run([...host, 'stack', 'ls', '--format', 'json'], ls.io)).toBe(0)
    expect(JSON.parse(ls.out.join(''))).toEqual([{ name: 'e', services: 2 }])
    const bad = io()
    expect(await run([...host, 'stack', 'deploy', '-c', join(FIXTURES, 'bad', 'replicas-string.yml'), 'e'], bad.io)).toBe(1)
    expect(bad.err.join('')).toBe(`swarmkit: InvalidArgumentError: ${join(FIXTURES, 'bad', 'replicas-string.yml')}:5: services.web.deploy.replicas: must be an integer\n`)
    const usage = io()
    expect(await run([...host, 'stack', 'deploy', 'e'], usage.io)).toBe(2)
    expect(usage.err.join('')).toBe('swarmkit: InvalidArgumentError: --compose-file: please specify a compose file (with --compose-file)\n')
    const stdin = io()
    const text = 'services:\n  piped:\n    image: busybox:fake\n'
    const piped = { ...stdin.io, stdin: Readable.from([text]) }
    expect(await run([...host, 'stack', 'deploy', '-c', '-', 'e'], piped)).toBe(0)
    expect(stdin.out.join('')).toBe('Creating service e_piped\n')
    const rm = io()
    expect(await run([...host, 'stack', 'rm', 'e'], rm.io)).toBe(0)
    expect(rm.out.join('')).toBe('Removing service e_api\nRemoving service e_piped\nRemoving service e_worker\nRemoving secret e_token\nRemoving network e_default\n')
  })
})
