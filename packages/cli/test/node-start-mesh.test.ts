/**
 * `swarmkit node start --mesh-addr <ip>`: the node runs the routing mesh on that IP, so a service
 * published with `--publish P:80` answers at `<ip>:P`; a flag value that is not an IP is a bad
 * command line naming the flag.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort, httpGet } from '../../../scripts/test-support/http.ts'
import { CliRig, FAST_NODE_FLAGS, foregroundNodes, swarmkit } from './commands-rig.ts'

/** A web server for the process runtime's `node` image: answers `web <WHO>` on `PORT`. */
const WEB = "require('http').createServer((q, s) => s.end('web ' + process.env.WHO)).listen(Number(process.env.PORT))"

describe('swarmkit node start --mesh-addr', { timeout: 240_000 }, () => {
  const rig = new CliRig()
  const startNode = foregroundNodes()

  it('runs the routing mesh on the given IP: a published port answers there for the service task', async () => {
    const port = await freePort()
    const node = startNode(['init', '--state-dir', join(await rig.dir(), 'm'), '--runtime', 'process', '--mesh-addr', '127.0.0.1', ...FAST_NODE_FLAGS])
    const host = ['--host', `unix://${(await node.ready).controlSocket ?? ''}`]
    const created = await swarmkit([...host, 'service', 'create', '-d', '--name', 'web', '--publish', `${port}:80`, '--env', 'WHO=meshed', 'node', 'node', '-e', WEB])
    expect(created.code).toBe(0)
    let body: string | undefined
    for (let i = 0; i < 1200 && (body = await httpGet('127.0.0.1', port)) === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(body).toBe('web meshed')
    node.stop.abort()
    expect((await node.done).code).toBe(0)
  })

  it('refuses a --mesh-addr that is not an IP address, naming the flag', async () => {
    const result = await swarmkit(['node', 'start', 'init', '--state-dir', join(await rig.dir(), 'm'), '--mesh-addr', 'localhost'])
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'swarmkit: InvalidArgumentError: --mesh-addr: must be an IP address, got "localhost"\n' })
  })
})
