/**
 * `swarmkit node start --dashboard host:port [--dashboard-actions]`: the manager serves the live
 * dashboard, reports its URL (with the actions token in the fragment), and refuses bad flags.
 */
import { get } from 'node:https'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CliRig, FAST_NODE_FLAGS, foregroundNodes, swarmkit, type Started } from './commands-rig.ts'

const FAST_FLAGS = ['--runtime', 'fake', ...FAST_NODE_FLAGS]

describe('swarmkit node start --dashboard', { timeout: 90_000 }, () => {
  const rig = new CliRig()
  const startNode = foregroundNodes()

  it('serves the dashboard of a manager and reports its URL with the actions token', async () => {
    const node = startNode(['init', '--state-dir', join(await rig.dir(), 'm'), '--hostname', 'm1', '--dashboard', '127.0.0.1:0', '--dashboard-actions', ...FAST_FLAGS])
    const m = (await node.ready) as Started & { dashboard?: string }
    expect(m.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/)
    const url = new URL(m.dashboard ?? '')
    const token = url.hash.slice('#token='.length)
    const state = (await (await fetch(new URL('/api/state', url))).json()) as { nodes: { id: string }[]; actions: boolean }
    expect([state.nodes.map((n) => n.id), state.actions]).toEqual([[m.nodeId], true])
    const drain = (auth?: string): Promise<Response> =>
      fetch(new URL(`/api/nodes/${m.nodeId}/availability`, url), { method: 'POST', headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }) }, body: '{"availability":"pause"}' })
    expect((await drain()).status).toBe(403)
    expect((await drain(token)).status).toBe(200)
    node.stop.abort()
    expect((await node.done).code).toBe(0)
    await expect(fetch(url)).rejects.toThrow()
  })

  it('refuses a bad --dashboard address, and --dashboard-actions alone, as usage errors', async () => {
    const dir = join(await rig.dir(), 'm')
    expect(await swarmkit(['node', 'start', 'init', '--state-dir', dir, '--dashboard', '8080'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'swarmkit: InvalidArgumentError: --dashboard: must be host:port (127.0.0.1:8080), got "8080"\n',
    })
    expect(await swarmkit(['node', 'start', 'init', '--state-dir', dir, '--dashboard-actions'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'swarmkit: InvalidArgumentError: --dashboard-actions: needs --dashboard\n',
    })
    expect((await swarmkit(['node', 'start', 'init', '--state-dir', dir, '--dashboard-tls'])).stderr).toBe('swarmkit: InvalidArgumentError: --dashboard-tls: needs --dashboard\n')
  })

  it('serves the dashboard over HTTPS with --dashboard-tls', async () => {
    const node = startNode(['init', '--state-dir', join(await rig.dir(), 'm'), '--dashboard', '127.0.0.1:0', '--dashboard-tls', ...FAST_FLAGS])
    const m = (await node.ready) as Started & { dashboard?: string }
    expect(m.dashboard).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    // The certificate is the cluster CA's (tls.test.ts in the dashboard checks it against the root).
    const status = await new Promise<number>((resolve, reject) => {
      get(m.dashboard ?? '', { rejectUnauthorized: false }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      }).on('error', reject)
    })
    expect(status).toBe(200)
  })
})
