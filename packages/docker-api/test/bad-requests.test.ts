/**
 * Bad requests over the socket: malformed JSON, unknown fields, a stale `version`, an oversized
 * body, a bad content type — each answered with Docker's status and a `{"message"}` naming the
 * problem, and nothing applied (the cluster's objects are the same before and after).
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_BODY_LIMIT } from '../src/index.ts'
import { DockerRig } from './rig.ts'

interface Reply {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: unknown
}

let rig: DockerRig
beforeAll(async () => {
  rig = await DockerRig.start()
}, 120_000)
afterAll(async () => {
  await rig?.close()
})

/** One request to the rig's socket; a JSON body is parsed. */
function call(method: string, path: string, body?: string | Buffer, contentType = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)) }
    const req = request({ socketPath: rig.server.socketPath, path, method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.on('end', () => {
        const contentType = res.headers['content-type']
        resolve({ status: res.statusCode ?? 0, contentType, body: contentType === 'application/json' && text !== '' ? (JSON.parse(text) as unknown) : text })
      })
    })
    // The server may answer (413) and close before the whole body is written.
    req.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)))
    req.end(body)
  })
}

/** The objects a bad request must leave as they were (nodes change by themselves: heartbeats). */
async function snapshot(): Promise<unknown> {
  const m = rig.manager
  const [services, secrets, configs, networks] = await Promise.all([m.services.list(), m.secrets.list(), m.configs.list(), m.networks.list()])
  return JSON.parse(JSON.stringify({ services, secrets, configs, networks }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
}

const SERVICE = { Name: 'bad-web', TaskTemplate: { ContainerSpec: { Image: 'busybox:fake', Args: ['sleep', '3600'] } }, Mode: { Replicated: { Replicas: 1 } } }

describe('bad requests', () => {
  it('refuses malformed JSON with 400 and the parser message, creating nothing', async () => {
    const before = await snapshot()
    const r = await call('POST', '/v1.41/services/create', '{"Name": "bad-web", ')
    expect(r.status).toBe(400)
    expect(r.contentType).toBe('application/json')
    expect((r.body as { message: string }).message).toMatch(/^malformed JSON in the request body: /)
    expect(await snapshot()).toEqual(before)
  })

  it('refuses an unknown field with 400 naming its path, creating nothing', async () => {
    const before = await snapshot()
    const r = await call('POST', '/v1.41/services/create', JSON.stringify({ ...SERVICE, TaskTemplate: { ContainerSpec: { ...SERVICE.TaskTemplate.ContainerSpec, Colour: 'red' } } }))
    expect(r.status).toBe(400)
    expect((r.body as { message: string }).message).toContain('TaskTemplate.ContainerSpec.Colour')
    const secret = await call('POST', '/v1.41/secrets/create', JSON.stringify({ Name: 'bad-pw', Data: Buffer.from('x').toString('base64'), Colour: 'red' }))
    expect(secret.status).toBe(400)
    expect((secret.body as { message: string }).message).toContain('Colour')
    expect(await snapshot()).toEqual(before)
  })

  it('refuses an update with a stale version with 409, leaving the service as it was', async () => {
    const created = await call('POST', '/v1.41/services/create', JSON.stringify(SERVICE))
    expect(created.status).toBe(201)
    const id = (created.body as { ID: string }).ID
    const inspect = async (): Promise<{ Version: { Index: number }; Spec: { Mode: unknown } }> => (await call('GET', `/v1.41/services/${id}`)).body as { Version: { Index: number }; Spec: { Mode: unknown } }
    const first = await inspect()
    const bumped = await call('POST', `/v1.41/services/${id}/update?version=${first.Version.Index}`, JSON.stringify({ ...SERVICE, Mode: { Replicated: { Replicas: 2 } } }))
    expect(bumped.status).toBe(200)
    const before = await snapshot()
    const stale = await call('POST', `/v1.41/services/${id}/update?version=${first.Version.Index}`, JSON.stringify({ ...SERVICE, Mode: { Replicated: { Replicas: 5 } } }))
    expect(stale.status).toBe(409)
    expect(typeof (stale.body as { message: unknown }).message).toBe('string')
    const missing = await call('POST', `/v1.41/services/${id}/update`, JSON.stringify({ ...SERVICE, Mode: { Replicated: { Replicas: 5 } } }))
    expect(missing.status).toBe(400)
    expect((missing.body as { message: string }).message).toContain('version')
    const after = (await snapshot()) as { services: { id: string; spec: { mode: unknown } }[] }
    expect(after).toEqual(before)
    expect(after.services.find((s) => s.id === id)?.spec.mode).toEqual({ replicated: { replicas: 2 } })
    expect((await call('DELETE', `/v1.41/services/${id}`)).status).toBe(200)
  })

  it('refuses a body over the limit with 413, creating nothing', async () => {
    const before = await snapshot()
    const huge = JSON.stringify({ Name: 'bad-big', Data: 'A'.repeat(DEFAULT_BODY_LIMIT) })
    const r = await call('POST', '/v1.41/secrets/create', huge)
    expect(r).toEqual({ status: 413, contentType: 'application/json', body: { message: 'Request body is too large' } })
    expect(await snapshot()).toEqual(before)
  })

  it("refuses a body that is not JSON where JSON is expected with 400 in dockerd's words, and an unknown path with 404 'page not found'", async () => {
    const before = await snapshot()
    const r = await call('POST', '/v1.41/services/create', 'Name=bad-web', 'text/plain')
    expect(r).toEqual({ status: 400, contentType: 'application/json', body: { message: "unsupported Content-Type header (text/plain): must be 'application/json'" } })
    expect(await call('GET', '/v1.41/no/such/thing')).toEqual({ status: 404, contentType: 'application/json', body: { message: 'page not found' } })
    expect(await snapshot()).toEqual(before)
  })
})
