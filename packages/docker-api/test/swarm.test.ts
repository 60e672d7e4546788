import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CLIS, DockerRig } from './rig.ts'
import { api } from './swarm-http.ts'

describe.each(DOCKER_CLIS)('docker swarm ($version) against a manager', (cli) => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('join-token prints the join command with the token and this manager address', async () => {
    const tokens = await rig.manager.joinTokens()
    const r = await rig.docker(cli, ['swarm', 'join-token', 'worker'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`To add a worker to this swarm, run the following command:\n\n    docker swarm join --token ${tokens.worker} ${rig.manager.address}\n\n`)
    const q = await rig.docker(cli, ['swarm', 'join-token', '-q', 'manager'])
    expect(q.stdout).toBe(`${tokens.manager}\n`)
  })

  it('join-token --rotate replaces only that role token', async () => {
    const before = await rig.manager.joinTokens()
    const r = await rig.docker(cli, ['swarm', 'join-token', '--rotate', '-q', 'worker'])
    expect(r.code).toBe(0)
    const after = await rig.manager.joinTokens()
    expect(after.worker).not.toBe(before.worker)
    expect(after.manager).toBe(before.manager)
    expect(r.stdout).toBe(`${after.worker}\n`)
  })

  it('swarm update --task-history-limit and --dispatcher-heartbeat change the cluster spec, keeping the rest', async () => {
    const before = await rig.manager.getCluster()
    const r = await rig.docker(cli, ['swarm', 'update', '--task-history-limit', '7', '--dispatcher-heartbeat', '6s'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('Swarm updated.\n')
    const after = await rig.manager.getCluster()
    expect(after.spec).toEqual({
      ...before.spec,
      orchestration: { ...before.spec.orchestration, taskHistoryRetentionLimit: 7 },
      dispatcher: { heartbeatPeriodMs: 6000 },
    })
    const f = await rig.docker(cli, ['info', '--format', '{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}} {{.Swarm.Cluster.Spec.Dispatcher.HeartbeatPeriod}}'])
    expect(f.stdout.trim()).toBe('7 6s')
  })

  it('autolock on: unlock-key prints the key, --rotate replaces it; autolock off again', async () => {
    const on = await rig.docker(cli, ['swarm', 'update', '--autolock=true'])
    expect(on.code).toBe(0)
    const key = await rig.manager.unlockKey()
    expect(key).toMatch(/^SWMKEY-1-/)
    expect(on.stdout).toContain(`\n    ${key}\n`)
    const q = await rig.docker(cli, ['swarm', 'unlock-key', '-q'])
    expect(q.stdout).toBe(`${key}\n`)
    const rot = await rig.docker(cli, ['swarm', 'unlock-key', '--rotate', '-q'])
    expect(rot.code).toBe(0)
    const rotated = await rig.manager.unlockKey()
    expect(rotated).not.toBe(key)
    expect(rot.stdout).toBe(`${rotated}\n`)
    const off = await rig.docker(cli, ['swarm', 'update', '--autolock=false'])
    expect(off.code).toBe(0)
    expect(await rig.manager.unlockKey()).toBeUndefined()
    expect((await rig.manager.getCluster()).spec.encryptionConfig?.autoLockManagers).toBe(false)
  })

  it('swarm ca prints the root CA; swarm ca --rotate replaces it once every node holds a new certificate', async () => {
    const before = Buffer.from((await rig.manager.getCluster()).rootCa.caCert).toString('utf8')
    const ca = await rig.docker(cli, ['swarm', 'ca'])
    expect(ca.code).toBe(0)
    expect(ca.stdout.trim()).toBe(before.trim())
    const r = await rig.docker(cli, ['swarm', 'ca', '--rotate', '-q'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const after = await rig.manager.getCluster()
    expect(after.rootCa.rootRotation).toBeUndefined()
    const root = Buffer.from(after.rootCa.caCert).toString('utf8')
    expect(root).not.toBe(before)
    expect((await rig.docker(cli, ['swarm', 'ca'])).stdout.trim()).toBe(root.trim())
  }, 240_000)

  it('swarm init and join answer that the node is already part of a swarm', async () => {
    const r = await rig.docker(cli, ['swarm', 'init'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('Error response from daemon: This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.\n')
  })
})

describe('the /swarm endpoints', () => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('GET /swarm gives the cluster with its join tokens and TLS info', async () => {
    const c = await rig.manager.getCluster()
    const tokens = await rig.manager.joinTokens()
    const r = await api(rig, 'GET', '/v1.41/swarm')
    expect(r.status).toBe(200)
    const s = r.body as Record<string, unknown>
    expect(s['ID']).toBe(c.id)
    expect(s['JoinTokens']).toEqual({ Worker: tokens.worker, Manager: tokens.manager })
    expect((s['TLSInfo'] as Record<string, string>)['TrustRoot']).toBe(Buffer.from(c.rootCa.caCert).toString('utf8'))
    expect((s['TLSInfo'] as Record<string, string>)['CertIssuerPublicKey']).toMatch(/^MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/)
  })

  it('refuses an update with a stale version (409), nothing applied', async () => {
    const c = await rig.manager.getCluster()
    const body = ((await api(rig, 'GET', '/v1.41/swarm')).body as { Spec: Record<string, unknown> }).Spec
    const stale = Number(c.meta.version.index) - 1
    const r = await api(rig, 'POST', `/v1.41/swarm/update?version=${stale}`, { ...body, Orchestration: { TaskHistoryRetentionLimit: 9 } })
    expect(r.status).toBe(409)
    expect((await rig.manager.getCluster()).spec).toEqual(c.spec)
  })

  it('refuses an unknown field naming its path, and an external CA as not supported', async () => {
    const c = await rig.manager.getCluster()
    const v = c.meta.version.index
    const unknown = await api(rig, 'POST', `/v1.41/swarm/update?version=${v}`, { Name: 'default', Raft: { Bogus: 1 } })
    expect(unknown).toEqual({ status: 400, body: { message: 'Raft.Bogus: unknown field' } })
    const ext = await api(rig, 'POST', `/v1.41/swarm/update?version=${v}`, { Name: 'default', CAConfig: { ExternalCAs: [{ Protocol: 'cfssl', URL: 'https://ca' }] } })
    expect(ext.status).toBe(400)
    expect((ext.body as { message: string }).message).toBe('CAConfig.ExternalCAs: is not supported by swarmkit-ts: no external CA signer: the cluster signs with its own root CA')
    expect((await rig.manager.getCluster()).meta.version.index).toBe(v)
  })

  it('refuses rotating the unlock key while autolock is off, before changing anything', async () => {
    const c = await rig.manager.getCluster()
    const tokens = await rig.manager.joinTokens()
    const spec = ((await api(rig, 'GET', '/v1.41/swarm')).body as { Spec: unknown }).Spec
    const r = await api(rig, 'POST', `/v1.41/swarm/update?version=${c.meta.version.index}&rotateWorkerToken=true&rotateManagerUnlockKey=true`, spec)
    expect(r.status).toBe(409)
    expect(await rig.manager.joinTokens()).toEqual(tokens)
    expect((await rig.manager.getCluster()).meta.version.index).toBe(c.meta.version.index)
  })
})
