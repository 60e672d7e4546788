import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { deployStack } from '../src/stack/deploy.ts'
import { removeStack } from '../src/stack/remove.ts'
import { fixtureStack, StackRig } from './stack-rig.ts'

describe('stack deploy against a cluster', () => {
  const rig = new StackRig()

  it('creates everything once, then a redeploy of the same files changes nothing', async () => {
    const control = await rig.start()
    const stack = fixtureStack('good/full', ['docker-compose.yml'], 'shop')
    const lines: string[] = []
    await deployStack(control, stack, { log: (l) => lines.push(l) })
    expect(lines).toEqual([
      'Creating secret shop_api_key',
      'Creating config shop_site',
      'Creating network shop_back',
      'Creating network shop_default',
      'Creating network shop_front',
      'Creating service shop_migrate',
      'Creating service shop_web',
      'Creating service shop_worker',
    ])
    const again: string[] = []
    const res = await deployStack(control, stack, { log: (l) => again.push(l) })
    expect(again).toEqual([])
    expect(res.actions).toEqual([])
  })
})

describe('stack redeploy, prune and rm', () => {
  const rig = new StackRig()

  it('updates only the changed service, keeps the unnamed one without --prune, removes it with --prune, and rm removes everything', async () => {
    const control = await rig.start()
    await deployStack(control, fixtureStack('good/redeploy', ['v1.yml'], 'app'))
    const before = new Map((await control.services.list()).map((s) => [s.spec.annotations.name, s]))
    const api = before.get('app_api')
    const worker = before.get('app_worker')
    if (api === undefined || worker === undefined) throw new Error('v1 not deployed')

    const lines: string[] = []
    await deployStack(control, fixtureStack('good/redeploy', ['v2.yml'], 'app'), { log: (l) => lines.push(l) })
    expect(lines).toEqual(['Updating secret app_token', `Updating service app_api (id: ${api.id})`, 'Creating service app_cache'])
    const after = new Map((await control.services.list()).map((s) => [s.spec.annotations.name, s]))
    expect([...after.keys()]).toEqual(['app_api', 'app_cache', 'app_worker'])
    expect(after.get('app_api')?.spec.task.container?.image).toBe('busybox:2')
    expect(after.get('app_api')?.previousSpec?.task.container?.image).toBe('busybox:1')
    // Not updated: no previous spec, the same spec (the allocator may bump meta.version on its own).
    expect(after.get('app_worker')?.previousSpec).toBeUndefined()
    expect(after.get('app_worker')?.spec).toEqual(worker.spec)
    expect((await control.secrets.get('app_token')).spec.annotations.labels).toEqual({ rotated: 'no', 'com.docker.stack.namespace': 'app' })

    const pruned: string[] = []
    await deployStack(control, fixtureStack('good/redeploy', ['v2.yml'], 'app'), { prune: true, log: (l) => pruned.push(l) })
    expect(pruned).toEqual(['Removing service app_worker'])
    expect((await control.services.list()).map((s) => s.spec.annotations.name)).toEqual(['app_api', 'app_cache'])

    const removed: string[] = []
    const result = await removeStack(control, 'app', { log: (l) => removed.push(l), signal: AbortSignal.timeout(60_000) })
    expect(removed).toEqual(['Removing service app_api', 'Removing service app_cache', 'Removing secret app_token', 'Removing network app_default'])
    expect(result).toEqual({ services: ['app_api', 'app_cache'], secrets: ['app_token'], configs: [], networks: ['app_default'] })
    const labels = { 'com.docker.stack.namespace': 'app' }
    expect(await control.services.list({ labels })).toEqual([])
    expect(await control.secrets.list({ labels })).toEqual([])
    expect(await control.networks.list({ labels })).toEqual([])
    expect(await removeStack(control, 'app')).toEqual({ services: [], secrets: [], configs: [], networks: [] })
  })
})

describe('stack redeploy of a changed config file', () => {
  const rig = new StackRig()

  it('is refused by the control API (only labels may change) and leaves the service as it was', async () => {
    const control = await rig.start()
    await deployStack(control, fixtureStack('good/config-change', ['v1.yml'], 'c'))
    const web = await control.services.get('c_web')
    const lines: string[] = []
    await expect(deployStack(control, fixtureStack('good/config-change', ['v2.yml'], 'c'), { log: (l) => lines.push(l) })).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(lines).toEqual(['Updating config c_site'])
    expect(new TextDecoder().decode((await control.configs.get('c_site')).spec.data)).toBe('one\n')
    expect((await control.services.get('c_web')).spec).toEqual(web.spec)
  })
})

describe('stack deploy of specs the cluster refuses', () => {
  const rig = new StackRig()

  it('fails before writing anything, naming the compose service and the spec field', async () => {
    const control = await rig.start()
    const lines: string[] = []
    const deploying = deployStack(control, fixtureStack('invalid', ['bad-constraint.yml'], 'x'), { log: (l) => lines.push(l) })
    await expect(deploying).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(deploying).rejects.toThrow('services.web: task.placement.constraints[0]: unsupported operator "===" (use == or !=) in constraint "node.role === manager"')
    expect(lines).toEqual([])
    expect([await control.services.list(), await control.secrets.list(), await control.networks.list({ labels: { 'com.docker.stack.namespace': 'x' } })]).toEqual([[], [], []])
  })
})

describe('stack redeploy the control API refuses', () => {
  const rig = new StackRig()

  it('fails naming the service, with the typed error of the control API', async () => {
    const control = await rig.start()
    await deployStack(control, fixtureStack('good/running', ['docker-compose.yml'], 'g'))
    const api = await control.services.get('g_api')
    const redeploy = deployStack(control, fixtureStack('good/running', ['global.yml'], 'g'))
    await expect(redeploy).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(redeploy).rejects.toThrow(`failed to update service g_api: mode: `)
    expect((await control.services.get('g_api')).spec).toEqual(api.spec)
  })
})
