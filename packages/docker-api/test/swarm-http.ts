/**
 * A raw request on a rig's Docker API socket, for the bad-request tests of the swarm resources
 * (what the CLI never sends).
 */
import { request } from 'node:http'
import type { DockerRig } from './rig.ts'

/** One request on the rig's socket: status and parsed JSON body (undefined when empty). */
export function api(rig: DockerRig, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    const req = request({ socketPath: rig.server.socketPath, method, path, headers: data === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) }))
    })
    req.once('error', reject)
    req.end(data)
  })
}
