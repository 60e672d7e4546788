/**
 * HTTPS with the cluster's certificates: the page is served to anyone who trusts the cluster's
 * root; a client presenting a manager certificate of the cluster may act without the token, a
 * client without one needs the token; a simulated cluster cannot serve TLS.
 */
import { request } from 'node:https'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { Cluster, type ManagerCluster } from '@swarmkit-ts/core'
import { serveDashboard, type DashboardServer } from '../src/index.ts'
import { StoreCluster } from './store-cluster.ts'

interface Reply {
  readonly status: number
  readonly body: string
}

/** One HTTPS request trusting the cluster's root, with a client certificate when given. */
function call(url: string, options: { method?: string; body?: string; ca: string; key?: string; cert?: string; token?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        ...(options.key === undefined ? {} : { key: options.key, cert: options.cert }),
        headers: { 'content-type': 'application/json', ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

describe('serveDashboard with tls', () => {
  let dir = ''
  let manager: ManagerCluster
  let server: DashboardServer

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dash-tls-'))
    manager = await Cluster.init({ stateDir: join(dir, 's'), listenAddr: '127.0.0.1:0', runtime: 'fake', raft: { tickMs: 50, electionTick: 20, heartbeatTick: 1 } })
    server = await serveDashboard(manager, { listen: '127.0.0.1:0', actions: true, tls: true })
  }, 120_000)

  afterAll(async () => {
    await server?.close()
    await manager?.close()
    await rm(dir, { recursive: true, force: true })
  }, 120_000)

  it("serves the page over HTTPS with a certificate of the cluster's CA, no client certificate needed to read", async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    const page = await call(server.url, { ca: manager.tls.current.trustBundlePem })
    expect(page.status).toBe(200)
    expect(page.body).toContain('<title>swarmkit-ts · swarmkit dashboard</title>')
  })

  it('lets a manager certificate act without the token; without one, only the token', async () => {
    const { keyPem, certChainPem, trustBundlePem } = manager.tls.current
    const url = `${server.url}api/nodes/${manager.nodeId}/availability`
    const pause = JSON.stringify({ availability: 'pause' })
    expect((await call(url, { method: 'POST', body: pause, ca: trustBundlePem })).status).toBe(403)
    expect((await call(url, { method: 'POST', body: pause, ca: trustBundlePem, key: keyPem, cert: certChainPem })).status).toBe(200)
    expect((await manager.nodes.get(manager.nodeId)).spec.availability).toBe('pause')
    const active = JSON.stringify({ availability: 'active' })
    expect((await call(url, { method: 'POST', body: active, ca: trustBundlePem, token: server.token ?? '' })).status).toBe(200)
    expect((await manager.nodes.get(manager.nodeId)).spec.availability).toBe('active')
  })

  it('refuses tls for a simulated cluster, naming the option', async () => {
    const err = await serveDashboard(new StoreCluster(), { listen: '127.0.0.1:0', tls: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('tls')
  })
})
