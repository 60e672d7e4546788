import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CLIS, DockerRig } from './rig.ts'
import { api } from './swarm-http.ts'

describe.each(DOCKER_CLIS)('docker config ($version)', (cli) => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('config create from stdin, ls, inspect --pretty with the data, rm', async () => {
    const c = await rig.docker(cli, ['config', 'create', '--label', 'app=web', 'nginx.conf', '-'], { stdin: 'worker_processes 2;\n' })
    expect(c.stderr).toBe('')
    expect(c.code).toBe(0)
    const cfg = await rig.manager.configs.get('nginx.conf')
    expect(c.stdout).toBe(`${cfg.id}\n`)
    expect(new TextDecoder().decode(cfg.spec.data)).toBe('worker_processes 2;\n')
    const ls = await rig.docker(cli, ['config', 'ls', '--format', '{{.ID}} {{.Name}}'])
    expect(ls.stdout).toBe(`${cfg.id} nginx.conf\n`)
    const pretty = await rig.docker(cli, ['config', 'inspect', '--pretty', 'nginx.conf'])
    expect(pretty.code).toBe(0)
    expect(pretty.stdout).toContain('Name:\t\t\tnginx.conf\n')
    expect(pretty.stdout).toContain('Data:\nworker_processes 2;\n')
    const rm = await rig.docker(cli, ['config', 'rm', 'nginx.conf'])
    expect(rm.stdout).toBe('nginx.conf\n')
    expect(await rig.manager.configs.list()).toEqual([])
  })

  it('config rm refuses a config a service uses', async () => {
    const cfg = await rig.manager.configs.create({ annotations: { name: 'used.conf' }, data: new TextEncoder().encode('x') })
    const svc = await rig.manager.services.create({
      annotations: { name: 'web' },
      mode: { replicated: { replicas: 0 } },
      task: { container: { image: 'busybox:fake', configs: [{ configId: cfg.id, configName: 'used.conf', file: { name: '/etc/used.conf' } }] } },
    })
    const r = await rig.docker(cli, ['config', 'rm', 'used.conf'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe("Error response from daemon: config 'used.conf' is in use by the following service: web\n")
    await rig.manager.services.remove(svc.id)
    await rig.manager.configs.remove(cfg.id)
  })
})

describe('the /configs endpoints', () => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('inspect returns the data base64-encoded; templating and unknown fields are refused', async () => {
    const created = await api(rig, 'POST', '/v1.41/configs/create', { Name: 'c', Labels: null, Data: Buffer.from('hello').toString('base64') })
    expect(created.status).toBe(201)
    const id = (created.body as { ID: string }).ID
    const got = await api(rig, 'GET', `/v1.41/configs/${id}`)
    expect((got.body as { Spec: unknown }).Spec).toEqual({ Name: 'c', Labels: {}, Data: 'aGVsbG8=' })
    expect((await api(rig, 'POST', '/v1.41/configs/create', { Name: 'd', Data: 'eA==', Templating: { Name: 'golang' } })).status).toBe(400)
    expect(await api(rig, 'POST', '/v1.41/configs/create', { Name: 'd', Data: 'eA==', Driver: { Name: 'x' } })).toEqual({ status: 400, body: { message: 'Driver: unknown field' } })
    expect((await rig.manager.configs.list()).map((c) => c.spec.annotations.name)).toEqual(['c'])
    expect(await api(rig, 'GET', '/v1.41/configs/nosuch')).toEqual({ status: 404, body: { message: 'config nosuch not found' } })
  })
})
