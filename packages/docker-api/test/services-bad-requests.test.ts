import { request, type IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveDockerApi } from '../src/index.ts'
import { DockerRig } from './rig.ts'

let rig: DockerRig
beforeAll(async () => {
  rig = await DockerRig.start()
}, 120_000)
afterAll(async () => {
  await rig?.close()
})

/** One request on the rig's socket: the status and the parsed JSON body. */
function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request({ socketPath: rig.server.socketPath, method, path: `/v1.41${path}`, headers: payload === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) }))
    })
    req.once('error', reject)
    req.end(payload)
  })
}

const spec = (name: string, replicas = 1): Record<string, unknown> => ({
  Name: name,
  TaskTemplate: { ContainerSpec: { Image: 'busybox:fake', Command: ['sleep', '3600'] } },
  Mode: { Replicated: { Replicas: replicas } },
})

describe('bad requests to the services and tasks endpoints', () => {
  it('create refuses an unknown field with 400 naming its path, and creates nothing', async () => {
    const body = { ...spec('bad-field'), TaskTemplate: { ContainerSpec: { Image: 'busybox:fake', Foo: true } } }
    expect(await call('POST', '/services/create', body)).toEqual({ status: 400, body: { message: 'TaskTemplate.ContainerSpec.Foo: unknown field' } })
    expect(await rig.manager.services.list({ names: ['bad-field'] })).toEqual([])
  })

  it('create refuses a bad mode (two modes, negative or non-numeric replicas) with 400', async () => {
    expect(await call('POST', '/services/create', { ...spec('m'), Mode: { Replicated: {}, Global: {} } })).toEqual({
      status: 400,
      body: { message: 'Mode: needs exactly one of Replicated, Global, ReplicatedJob, GlobalJob' },
    })
    expect(await call('POST', '/services/create', spec('m', -1))).toEqual({ status: 400, body: { message: 'Mode.Replicated.Replicas: must be an integer of at least 0, got -1' } })
    expect(await call('POST', '/services/create', { ...spec('m'), Mode: { Replicated: { Replicas: '3' } } })).toEqual({
      status: 400,
      body: { message: 'Mode.Replicated.Replicas: must be an integer of at least 0, got "3"' },
    })
    expect(await rig.manager.services.list({ names: ['m'] })).toEqual([])
  })

  it('names the Docker field of what the api refuses (a bad name, a relative mount target, a rename)', async () => {
    const name = await call('POST', '/services/create', spec('Bad Name'))
    expect(name.status).toBe(400)
    expect((name.body as { message: string }).message).toMatch(/^Name: "Bad Name" is not a valid DNS label/)
    const body = spec('mounts')
    ;(body['TaskTemplate'] as { ContainerSpec: Record<string, unknown> }).ContainerSpec['Mounts'] = [{ Type: 'volume', Source: 'data', Target: 'data' }]
    expect(await call('POST', '/services/create', body)).toEqual({ status: 400, body: { message: 'TaskTemplate.ContainerSpec.Mounts[0].Target: "data" must be an absolute path' } })
    const made = await call('POST', '/services/create', spec('named'))
    expect(made.status).toBe(201)
    const v = (await rig.manager.services.get('named')).meta.version.index
    expect(await call('POST', `/services/named/update?version=${v}`, spec('renamed'))).toEqual({ status: 400, body: { message: 'Name: renaming a service is not supported' } })
  })

  it('create refuses a reference to a secret that does not exist, naming the field', async () => {
    const body = spec('with-secret')
    ;(body['TaskTemplate'] as { ContainerSpec: Record<string, unknown> }).ContainerSpec['Secrets'] = [{ SecretName: 'nosuch', File: { Name: 'nosuch', UID: '0', GID: '0', Mode: 292 } }]
    expect(await call('POST', '/services/create', body)).toEqual({ status: 400, body: { message: 'TaskTemplate.ContainerSpec.Secrets[0]: secret nosuch not found' } })
  })

  it('update with a stale version is refused with 409 and changes nothing', async () => {
    const created = await call('POST', '/services/create', spec('stale', 1))
    expect(created.status).toBe(201)
    const { ID } = created.body as { ID: string }
    const before = await rig.manager.services.get(ID)
    const v = Number(before.meta.version.index)
    expect(await call('POST', `/services/${ID}/update?version=${v}`, spec('stale', 2))).toEqual({ status: 200, body: { Warnings: [] } })
    const stale = await call('POST', `/services/${ID}/update?version=${v}`, spec('stale', 5))
    expect(stale.status).toBe(409)
    const after = await rig.manager.services.get(ID)
    expect(after.spec.mode).toEqual({ replicated: { replicas: 2 } })
    expect((await call('GET', `/services/${ID}`)).body).toMatchObject({ Version: { Index: Number(after.meta.version.index) }, Spec: { Mode: { Replicated: { Replicas: 2 } } } })
  })

  it('update without a version, or with a bad field, is refused with 400 and changes nothing', async () => {
    const s = await rig.manager.services.get('stale')
    expect(await call('POST', '/services/stale/update', spec('stale', 3))).toEqual({ status: 400, body: { message: 'version: invalid version null: must be the object\'s Version.Index' } })
    const bad = { ...spec('stale', 3), UpdateConfig: { Parallelism: 1, Order: 'sideways' } }
    expect(await call('POST', `/services/stale/update?version=${s.meta.version.index}`, bad)).toEqual({
      status: 400,
      body: { message: 'UpdateConfig.Order: must be one of stop-first, start-first, got "sideways"' },
    })
    expect((await rig.manager.services.get('stale')).meta.version).toEqual(s.meta.version)
  })

  it('a service that does not exist is 404 "service <x> not found" for inspect, update, delete and logs', async () => {
    const notFound = { status: 404, body: { message: 'service nosuch not found' } }
    expect(await call('GET', '/services/nosuch')).toEqual(notFound)
    expect(await call('POST', '/services/nosuch/update?version=1', spec('nosuch'))).toEqual(notFound)
    expect(await call('DELETE', '/services/nosuch')).toEqual(notFound)
    expect(await call('GET', '/services/nosuch/logs?stdout=1')).toEqual(notFound)
    expect(await call('GET', '/tasks/nosuch')).toEqual({ status: 404, body: { message: 'task nosuch not found' } })
  })

  it('refuses unknown filters and filter values, and logs without a stream, with 400', async () => {
    expect(await call('GET', `/services?filters=${encodeURIComponent('{"nope":{"x":true}}')}`)).toEqual({ status: 400, body: { message: "invalid filter 'nope'" } })
    expect(await call('GET', `/services?filters=${encodeURIComponent('{"mode":{"sideways":true}}')}`)).toEqual({ status: 400, body: { message: "Invalid filter: 'mode'='sideways'" } })
    expect(await call('GET', `/tasks?filters=${encodeURIComponent('{"desired-state":{"sleeping":true}}')}`)).toEqual({ status: 400, body: { message: "Invalid desired-state filter: 'sleeping'" } })
    expect(await call('GET', '/services/stale/logs')).toEqual({ status: 400, body: { message: 'Bad parameters: you must choose at least one stream' } })
  })

  it('resolves a service by a unique ID prefix, and lists with status the task counts', async () => {
    const s = await rig.manager.services.get('stale')
    expect((await call('GET', `/services/${s.id.slice(0, 6)}`)).body).toMatchObject({ ID: s.id, Spec: { Name: 'stale' } })
    const listed = (await call('GET', `/services?status=true&filters=${encodeURIComponent('{"name":{"stale":true}}')}`)).body as { ServiceStatus: { DesiredTasks: number } }[]
    expect(listed.map((x) => x.ServiceStatus.DesiredTasks)).toEqual([2])
  })
})

describe('service log streams', () => {
  it('a followed log stream starts at once (headers flushed) and ends when the server closes', async () => {
    const server = await serveDockerApi(rig.manager, { socket: join(await rig.tempDir('dkl-'), 'd.sock') })
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ socketPath: server.socketPath, path: '/v1.41/services/stale/logs?follow=1&stdout=1&stderr=1&details=1' }, resolve)
      req.once('error', reject)
      req.end()
    })
    expect([res.statusCode, res.headers['content-type']]).toEqual([200, 'application/vnd.docker.raw-stream'])
    const ended = new Promise<boolean>((resolve) => {
      res.once('close', () => resolve(true))
      res.resume()
    })
    await server.close()
    expect(await ended).toBe(true)
  })
})
