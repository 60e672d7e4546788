import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CLIS, DockerRig } from './rig.ts'
import { api } from './swarm-http.ts'

describe.each(DOCKER_CLIS)('docker network ($version)', (cli) => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('network create -d overlay --attachable --subnet --label creates a swarm overlay', async () => {
    const r = await rig.docker(cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.20.0.0/24', '--label', 'env=test', 'backend'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const n = await rig.manager.networks.get('backend')
    expect(r.stdout).toBe(`${n.id}\n`)
    expect(n.spec.attachable).toBe(true)
    expect(n.spec.annotations.labels).toEqual({ env: 'test' })
    expect(n.spec.ipam?.configs).toEqual([{ subnet: '10.20.0.0/24' }])
  })

  it('network ls shows Docker columns: the ingress and the new network, overlay, swarm', async () => {
    const n = await rig.manager.networks.get('backend')
    const ingress = await rig.manager.networks.get('ingress')
    const r = await rig.docker(cli, ['network', 'ls'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n').map((l) => l.split(/ {2,}/).map((c) => c.trim()))
    // Sorted by name, as the CLI sorts them.
    expect(lines).toEqual([
      ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'],
      [n.id.slice(0, 12), 'backend', 'overlay', 'swarm'],
      [ingress.id.slice(0, 12), 'ingress', 'overlay', 'swarm'],
    ])
    const filtered = await rig.docker(cli, ['network', 'ls', '-q', '--no-trunc', '--filter', 'label=env=test'])
    expect(filtered.stdout).toBe(`${n.id}\n`)
  })

  it('network inspect shows the allocated subnet and gateway', async () => {
    const r = await rig.docker(cli, ['network', 'inspect', 'backend', '--format', '{{.Scope}} {{.Driver}} {{.Attachable}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('swarm overlay true 10.20.0.0/24 10.20.0.1')
  })

  it('a bridge network (the default driver) is refused with a message naming the driver', async () => {
    const r = await rig.docker(cli, ['network', 'create', 'local'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('Error response from daemon: Driver: "bridge" is not supported by swarmkit-ts: only overlay networks span the cluster (docker network create -d overlay)\n')
  })

  it('network rm refuses a network a service uses, then removes it', async () => {
    const n = await rig.manager.networks.get('backend')
    const svc = await rig.manager.services.create({ annotations: { name: 'web' }, mode: { replicated: { replicas: 0 } }, task: { container: { image: 'busybox:fake' }, networks: [{ target: n.id }] } })
    const refused = await rig.docker(cli, ['network', 'rm', 'backend'])
    expect(refused.code).toBe(1)
    expect(refused.stderr.split('\n')[0]).toBe('Error response from daemon: network backend is in use by service web')
    await rig.manager.services.remove(svc.id)
    const r = await rig.docker(cli, ['network', 'rm', 'backend'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('backend\n')
    await expect(rig.manager.networks.get('backend')).rejects.toThrow('not found')
  })
})

describe.each(DOCKER_CLIS)('docker network prune ($version)', (cli) => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('removes the unused networks matching the filters, keeping used ones and the ingress', async () => {
    const m = rig.manager
    const used = await m.networks.create({ annotations: { name: 'used' }, driverConfig: { name: 'overlay' } })
    await m.networks.create({ annotations: { name: 'idle' }, driverConfig: { name: 'overlay' } })
    await m.networks.create({ annotations: { name: 'kept', labels: { keep: 'yes' } }, driverConfig: { name: 'overlay' } })
    const svc = await m.services.create({ annotations: { name: 'web' }, mode: { replicated: { replicas: 0 } }, task: { container: { image: 'busybox:fake' }, networks: [{ target: used.id }] } })
    const r = await rig.docker(cli, ['network', 'prune', '-f', '--filter', 'label!=keep'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('Deleted Networks:\nidle\n\n')
    expect((await m.networks.list()).map((n) => n.spec.annotations.name)).toEqual(['ingress', 'kept', 'used'])
    await m.services.remove(svc.id)
  })
})

describe('the /networks endpoints', () => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('refuses a local scope, an IPAM plugin, encryption, config-only networks and unknown fields, creating nothing', async () => {
    const base = { Name: 'n', Driver: 'overlay' }
    expect((await api(rig, 'POST', '/v1.41/networks/create', { ...base, Scope: 'local' })).status).toBe(400)
    expect((await api(rig, 'POST', '/v1.41/networks/create', { ...base, IPAM: { Driver: 'infoblox' } })).status).toBe(400)
    expect(await api(rig, 'POST', '/v1.41/networks/create', { ...base, Options: { encrypted: '' } })).toEqual({
      status: 400,
      body: { message: 'Options.encrypted: is not supported by swarmkit-ts: overlay traffic is not encrypted' },
    })
    expect((await api(rig, 'POST', '/v1.41/networks/create', { ...base, ConfigOnly: true })).status).toBe(400)
    expect(await api(rig, 'POST', '/v1.41/networks/create', { ...base, IPAM: { Config: [{ Subnet: '10.9.0.0/24', Bogus: 1 }] } })).toEqual({
      status: 400,
      body: { message: 'IPAM.Config[0].Bogus: unknown field' },
    })
    expect((await rig.manager.networks.list()).map((n) => n.spec.annotations.name)).toEqual(['ingress'])
  })

  it('looks a network up by ID prefix; an unknown one is 404 with Docker wording', async () => {
    const ingress = await rig.manager.networks.get('ingress')
    const r = await api(rig, 'GET', `/v1.41/networks/${ingress.id.slice(0, 5)}`)
    expect((r.body as { Id: string; Ingress: boolean }).Id).toBe(ingress.id)
    expect((r.body as { Ingress: boolean }).Ingress).toBe(true)
    expect(await api(rig, 'GET', '/v1.41/networks/nosuch')).toEqual({ status: 404, body: { message: 'network nosuch not found' } })
  })
})
