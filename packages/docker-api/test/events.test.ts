/**
 * `docker events` with the real CLIs against a manager: a past window (`--since` / `--until`)
 * after services, secrets and networks were created, updated and removed; a live stream followed
 * then killed; a stream that ends at a future `--until`; tasks as container events; refusals.
 */
import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { serveDockerApi } from '../src/index.ts'
import { DOCKER_CLIS, DockerRig, until, type DockerCli } from './rig.ts'

interface EventLine {
  readonly Type: string
  readonly Action: string
  readonly Actor: { readonly ID: string; readonly Attributes: Record<string, string> }
  readonly scope: string
  readonly time: number
  readonly timeNano: number
  readonly status?: string
  readonly id?: string
  readonly from?: string
}

/** Unix seconds with nanoseconds, as the CLI sends `--since`. */
const unixNow = (): string => (Date.now() / 1000).toFixed(3)
const parse = (stdout: string): EventLine[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as EventLine)
const brief = (e: EventLine): string => `${e.Type} ${e.Action} ${e.Actor.Attributes['name'] ?? ''}`

/** A raw request to the rig's socket: status and body. */
function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.once('error', reject)
    req.end()
  })
}

describe.each(DOCKER_CLIS)('docker events ($version)', { timeout: 120_000 }, (cli: DockerCli) => {
  /** A name suffix per CLI (names are DNS labels). */
  const v = cli.version.replace(/[^0-9a-z]/gi, '')
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('lists the service, secret and network events of a past window with --since/--until, as dockerd words them', async () => {
    const m = rig.manager
    const since = unixNow()
    const svc = await m.services.create({ annotations: { name: `ev-${v}` }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox:fake', command: ['sleep', '3600'] } } })
    await m.services.scale(svc.id, 2)
    const secret = await m.secrets.create({ annotations: { name: 'ev-pw' }, data: new TextEncoder().encode('s3cret') })
    const net = await m.networks.create({ annotations: { name: 'ev-net' }, driverConfig: { name: 'overlay' } })
    await m.secrets.remove(secret.id)
    await m.networks.remove(net.id)
    await m.services.remove(svc.id)
    let events: EventLine[] = []
    // The history is fed by the store's watch: wait for the last change to be recorded.
    await until(async () => {
      const r = await rig.docker(cli, ['events', '--since', since, '--until', unixNow(), '--filter', 'type=service', '--filter', 'type=secret', '--filter', 'type=network', '--format', '{{json .}}'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      events = parse(r.stdout)
      return events.some((e) => e.Type === 'service' && e.Action === 'remove')
    }, 'the service removal in the history')
    const mine = events.filter((e) => ['ev-pw', 'ev-net', `ev-${v}`].includes(e.Actor.Attributes['name'] ?? ''))
    const lifecycle = mine.filter((e) => e.Action !== 'update').map(brief)
    expect(lifecycle).toEqual([
      `service create ev-${v}`,
      'secret create ev-pw',
      'network create ev-net',
      'secret remove ev-pw',
      'network remove ev-net',
      `service remove ev-${v}`,
    ])
    const scaled = mine.find((e) => e.Actor.Attributes['replicas.new'] === '2')
    expect(scaled?.Actor).toEqual({ ID: svc.id, Attributes: { name: `ev-${v}`, 'replicas.old': '1', 'replicas.new': '2' } })
    for (const e of mine) {
      expect(e.scope).toBe('swarm')
      expect(e.time).toBe(Math.floor(e.timeNano / 1e9))
    }
    expect(mine.find((e) => e.Type === 'secret')?.Actor.ID).toBe(secret.id)
    expect(mine.find((e) => e.Type === 'network')?.Actor.ID).toBe(net.id)
  })

  it('follows live events with --filter type=service until the CLI is killed', async () => {
    const name = `live-${v}`
    const child = spawn(cli.path, ['events', '--since', unixNow(), '--filter', 'type=service', '--format', '{{json .}}'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: rig.configDir, DOCKER_CONFIG: rig.configDir, DOCKER_HOST: rig.dockerHost },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    try {
      const first = await rig.manager.services.create({ annotations: { name }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox:fake', command: ['sleep', '3600'] } } })
      await until(() => parse(out).some((e) => e.Actor.ID === first.id && e.Action === 'create'), 'the create line')
      // The CLI is subscribed now: a later change arrives live.
      await rig.manager.services.remove(first.id)
      await until(() => parse(out).some((e) => e.Actor.ID === first.id && e.Action === 'remove'), 'the remove line')
      expect(parse(out).every((e) => e.Type === 'service')).toBe(true)
      expect(child.exitCode).toBeNull()
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  })

  it('ends a stream by itself at a --until in the future', async () => {
    const r = await rig.docker(cli, ['events', '--since', unixNow(), '--until', (Date.now() / 1000 + 1.5).toFixed(3), '--filter', 'type=config'])
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it("reports a service's tasks as containers: create and start, then die, stop and destroy once removed", async () => {
    const name = `ctr-${v}`
    const since = unixNow()
    const svc = await rig.manager.services.create({ annotations: { name }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox:fake', command: ['sleep', '3600'] } } })
    const ctrEvents = async (): Promise<EventLine[]> => {
      const r = await rig.docker(cli, ['events', '--since', since, '--until', unixNow(), '--filter', 'type=container', '--filter', `label=com.docker.swarm.service.id=${svc.id}`, '--format', '{{json .}}'])
      expect(r.code).toBe(0)
      return parse(r.stdout)
    }
    await until(async () => (await ctrEvents()).some((e) => e.Action === 'start'), 'the start event')
    await rig.manager.services.remove(svc.id)
    let events: EventLine[] = []
    await until(async () => (events = await ctrEvents()).some((e) => e.Action === 'destroy'), 'the destroy event')
    expect(events.map((e) => e.Action)).toEqual(['create', 'start', 'die', 'stop', 'destroy'])
    const start = events[1]
    expect(start?.Actor.Attributes['name']).toMatch(new RegExp(`^${name}\\.1\\.[0-9a-z]{25}$`))
    expect([start?.status, start?.id, start?.from, start?.scope]).toEqual(['start', start?.Actor.ID, 'busybox:fake', 'local'])
    expect(events[2]?.Actor.Attributes['exitCode']).toMatch(/^\d+$/)
  })

  it("prints Docker's default line per event: time, type, action, ID and attributes", async () => {
    const since = unixNow()
    const cfg = await rig.manager.configs.create({ annotations: { name: `cfg-${v}` }, data: new TextEncoder().encode('x') })
    let out = ''
    await until(async () => (out = (await rig.docker(cli, ['events', '--since', since, '--until', unixNow(), '--filter', 'type=config'])).stdout) !== '', 'the config event')
    expect(out).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z config create ${cfg.id} \\(name=cfg-${v}\\)\\n$`))
  })

  it("refuses an unknown filter and an until before since with Docker's messages", async () => {
    const bad = await rig.docker(cli, ['events', '--filter', 'colour=red', '--since', '1', '--until', '2'])
    expect([bad.code, bad.stderr.trim()]).toEqual([1, "Error response from daemon: invalid filter 'colour'"])
    const r = await get(rig.server.socketPath, '/v1.41/events?since=20&until=10')
    expect(r).toEqual({ status: 400, body: JSON.stringify({ message: '`since` time (20) cannot be after `until` time (10)' }) })
  })
})

describe('the events stream and the server', () => {
  it('ends an open stream when the server closes: the connection goes, nothing was written', async () => {
    const rig = await DockerRig.start()
    try {
      const server = await serveDockerApi(rig.manager, { socket: join(await rig.tempDir('dkev-'), 'events.sock') })
      const ended = await new Promise<{ status: number; ended: Promise<string> }>((resolve, reject) => {
        const req = request({ socketPath: server.socketPath, path: '/v1.41/events' }, (res) => {
          let body = ''
          res.setEncoding('utf8').on('data', (d: string) => (body += d))
          // The server drops its connections on close: the response ends or is cut, either way it closes.
          res.once('error', () => undefined)
          resolve({ status: res.statusCode ?? 0, ended: new Promise((done) => res.once('close', () => done(body))) })
        })
        req.once('error', reject)
        req.end()
      })
      expect(ended.status).toBe(200)
      await server.close()
      expect(await ended.ended).toBe('')
    } finally {
      await rig.close()
    }
  }, 120_000)
})
