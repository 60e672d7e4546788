import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_SECRET_SIZE } from '@swarmkit-ts/api'
import { DOCKER_CLIS, DockerRig } from './rig.ts'
import { api } from './swarm-http.ts'

function rows(out: string): string[][] {
  return out
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/ {2,}/).map((c) => c.trim()))
}

describe.each(DOCKER_CLIS)('docker secret ($version)', (cli) => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('secret create name - reads the data from stdin and prints the ID', async () => {
    const r = await rig.docker(cli, ['secret', 'create', '--label', 'tier=web', 'web-key', '-'], { stdin: 's3cr3t' })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const s = await rig.manager.secrets.get('web-key')
    expect(r.stdout).toBe(`${s.id}\n`)
    expect(s.spec.annotations.labels).toEqual({ tier: 'web' })
  })

  it('secret ls lists it with Docker columns and filters by name and label', async () => {
    const s = await rig.manager.secrets.get('web-key')
    await rig.manager.secrets.create({ annotations: { name: 'db-key' }, data: new TextEncoder().encode('x') })
    const r = await rig.docker(cli, ['secret', 'ls'])
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toMatch(/^ID +NAME +DRIVER +CREATED +UPDATED$/)
    expect(rows(r.stdout).map((c) => c[1]).sort()).toEqual(['db-key', 'web-key'])
    expect((await rig.docker(cli, ['secret', 'ls', '-q', '--filter', 'name=web'])).stdout).toBe(`${s.id}\n`)
    expect((await rig.docker(cli, ['secret', 'ls', '-q', '--filter', 'label=tier=web'])).stdout).toBe(`${s.id}\n`)
  })

  it('secret inspect never shows the data; an ID prefix names the secret', async () => {
    const s = await rig.manager.secrets.get('web-key')
    const r = await rig.docker(cli, ['secret', 'inspect', s.id.slice(0, 6), '--format', '{{.ID}} {{.Spec.Name}} {{.Spec.Labels}} {{.Version.Index}} [{{printf "%s" .Spec.Data}}]'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(`${s.id} web-key map[tier:web] ${s.meta.version.index} []`)
  })

  it('secret rm refuses a secret a service uses (Docker wording), then removes it once unused', async () => {
    const s = await rig.manager.secrets.get('web-key')
    const svc = await rig.manager.services.create({
      annotations: { name: 'web' },
      mode: { replicated: { replicas: 0 } },
      task: { container: { image: 'busybox:fake', secrets: [{ secretId: s.id, secretName: 'web-key', file: { name: 'web-key' } }] } },
    })
    const refused = await rig.docker(cli, ['secret', 'rm', 'web-key'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe("Error response from daemon: secret 'web-key' is in use by the following service: web\n")
    await rig.manager.services.remove(svc.id)
    const r = await rig.docker(cli, ['secret', 'rm', 'web-key', 'db-key'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('web-key\ndb-key\n')
    expect(await rig.manager.secrets.list()).toEqual([])
  })

  it('secret create of a taken name is refused', async () => {
    await rig.manager.secrets.create({ annotations: { name: 'taken' }, data: new TextEncoder().encode('x') })
    const r = await rig.docker(cli, ['secret', 'create', 'taken', '-'], { stdin: 'y' })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('Error response from daemon: secret name "taken" is already in use\n')
  })
})

describe('the /secrets endpoints refuse bad requests, writing nothing', () => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('bad base64 Data: 400 naming Data', async () => {
    const r = await api(rig, 'POST', '/v1.41/secrets/create', { Name: 'a', Data: 'not base64!' })
    expect(r).toEqual({ status: 400, body: { message: 'Data: is not valid base64' } })
    expect(await rig.manager.secrets.list()).toEqual([])
  })

  it('a secret of 500 KiB or more: 400', async () => {
    const r = await api(rig, 'POST', '/v1.41/secrets/create', { Name: 'big', Data: Buffer.alloc(MAX_SECRET_SIZE).toString('base64') })
    expect(r.status).toBe(400)
    expect((r.body as { message: string }).message).toMatch(/^data: /)
    expect(await rig.manager.secrets.list()).toEqual([])
  })

  it('an unknown field, a driver or templating: 400 naming the field', async () => {
    expect(await api(rig, 'POST', '/v1.41/secrets/create', { Name: 'a', Data: 'eA==', Extra: 1 })).toEqual({ status: 400, body: { message: 'Extra: unknown field' } })
    const driver = await api(rig, 'POST', '/v1.41/secrets/create', { Name: 'a', Data: 'eA==', Driver: { Name: 'vault' } })
    expect(driver).toEqual({ status: 400, body: { message: 'Driver: is not supported by swarmkit-ts: the agents do not run secret driver plugins' } })
    const templ = await api(rig, 'POST', '/v1.41/secrets/create', { Name: 'a', Data: 'eA==', Templating: { Name: 'golang' } })
    expect(templ.status).toBe(400)
    expect(await rig.manager.secrets.list()).toEqual([])
  })

  it('update: labels change with the current version; a stale version is 409; data cannot change', async () => {
    const created = await api(rig, 'POST', '/v1.41/secrets/create', { Name: 'u', Labels: {}, Data: 'eA==', Driver: null, Templating: null })
    expect(created.status).toBe(201)
    const id = (created.body as { ID: string }).ID
    const v = (await rig.manager.secrets.get(id)).meta.version.index
    const ok = await api(rig, 'POST', `/v1.41/secrets/${id}/update?version=${v}`, { Name: 'u', Labels: { a: 'b' } })
    expect(ok.status).toBe(200)
    expect((await rig.manager.secrets.get(id)).spec.annotations.labels).toEqual({ a: 'b' })
    const stale = await api(rig, 'POST', `/v1.41/secrets/${id}/update?version=${v}`, { Name: 'u', Labels: { a: 'c' } })
    expect(stale.status).toBe(409)
    const v2 = (await rig.manager.secrets.get(id)).meta.version.index
    const data = await api(rig, 'POST', `/v1.41/secrets/${id}/update?version=${v2}`, { Name: 'u', Labels: { a: 'b' }, Data: 'eQ==' })
    expect(data).toEqual({ status: 400, body: { message: 'data: only labels can be updated: the data cannot change' } })
    expect((await rig.manager.secrets.get(id)).meta.version.index).toBe(v2)
  })

  it('an unknown secret is 404 with Docker wording; an unknown filter is 400', async () => {
    expect(await api(rig, 'GET', '/v1.41/secrets/nosuch')).toEqual({ status: 404, body: { message: 'secret nosuch not found' } })
    expect(await api(rig, 'DELETE', '/v1.41/secrets/nosuch')).toEqual({ status: 404, body: { message: 'secret nosuch not found' } })
    expect(await api(rig, 'GET', `/v1.41/secrets?filters=${encodeURIComponent('{"bogus":{"x":true}}')}`)).toEqual({ status: 400, body: { message: "invalid filter 'bogus'" } })
  })
})
