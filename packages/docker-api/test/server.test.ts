import { spawnSync } from 'node:child_process'
import { stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveDockerApi } from '../src/index.ts'
import { DEBIAN_DOCKER, DockerRig } from './rig.ts'

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

function call(socketPath: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers } }, (res) => {
      let data = ''
      res.setEncoding('utf8').on('data', (d: string) => (data += d))
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }))
    })
    req.once('error', reject)
    req.end(body)
  })
}

describe('the Docker API server', () => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('answers an unknown path with 404 and Docker error body, with the Api-Version header', async () => {
    const a = await call(rig.server.socketPath, 'GET', '/v1.41/no/such/thing')
    expect(a.status).toBe(404)
    expect(JSON.parse(a.body)).toEqual({ message: 'page not found' })
    expect(a.headers['api-version']).toBe('1.41')
  })

  it('refuses a client version newer than 1.41 with Docker message', async () => {
    const a = await call(rig.server.socketPath, 'GET', '/v1.50/version')
    expect(a.status).toBe(400)
    expect(JSON.parse(a.body)).toEqual({ message: 'client version 1.50 is too new. Maximum supported API version is 1.41' })
  })

  it('refuses a client version older than 1.12', async () => {
    const a = await call(rig.server.socketPath, 'GET', '/v1.11/version')
    expect(a.status).toBe(400)
    expect(JSON.parse(a.body)).toEqual({ message: 'client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version' })
  })

  it('refuses malformed JSON with 400 naming the problem', async () => {
    const a = await call(rig.server.socketPath, 'POST', '/v1.41/no/such/thing', '{"a":')
    expect(a.status).toBe(400)
    expect((JSON.parse(a.body) as { message: string }).message).toMatch(/^malformed JSON in the request body: /)
  })

  it('refuses a socket another server listens on or a file that is no socket (FailedPreconditionError), and replaces a stale socket', async () => {
    await expect(serveDockerApi(rig.manager, { socket: rig.server.socketPath })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'socket-in-use' })
    const dir = await rig.tempDir('dks-')
    const plain = join(dir, 'plain')
    await writeFile(plain, '')
    await expect(serveDockerApi(rig.manager, { socket: plain })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'not-a-socket' })
    // A server killed while listening leaves its socket file behind, with nobody answering.
    const stale = join(dir, 'stale.sock')
    spawnSync(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))", stale])
    expect((await stat(stale)).isSocket()).toBe(true)
    const second = await serveDockerApi(rig.manager, { socket: stale })
    try {
      const a = await call(stale, 'GET', '/_ping')
      expect([a.status, a.body]).toEqual([200, 'OK'])
    } finally {
      await second.close()
    }
  })

  it('creates its socket with mode 0600', async () => {
    expect((await stat(rig.server.socketPath)).mode & 0o777).toBe(0o600)
  })

  it.runIf(DEBIAN_DOCKER !== undefined)('finds Debian docker CLI for the real-client tests', () => {
    expect(DEBIAN_DOCKER?.path).toBe('/usr/bin/docker')
  })
})
