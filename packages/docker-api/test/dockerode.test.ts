/**
 * dockerode (the npm client) against the Docker API, on the unix socket and over TCP with the
 * cluster's mutual TLS: list, create, update (dockerode's usual `update({ version, ...Spec })`)
 * and watch services — through `/events` and through their tasks — then remove them.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Docker from 'dockerode'
import { serveDockerApi, type DockerApiServer } from '../src/index.ts'
import { DockerRig, until } from './rig.ts'

/** The fields of Docker's Service JSON read here. */
interface ServiceJson {
  readonly ID: string
  readonly Version: { readonly Index: number }
  readonly Spec: { readonly Name: string; readonly Labels?: Record<string, string>; readonly Mode: { readonly Replicated?: { readonly Replicas: number } } }
}

/** The fields of Docker's Task JSON read here. */
interface TaskJson {
  readonly ServiceID: string
  readonly DesiredState: string
  readonly Status: { readonly State: string }
}

/** The fields of a Docker event read here. */
interface EventJson {
  readonly Type: string
  readonly Action: string
  readonly Actor: { readonly ID: string; readonly Attributes: Record<string, string> }
  readonly scope: string
}

let rig: DockerRig
let tcp: DockerApiServer

beforeAll(async () => {
  rig = await DockerRig.start({ managers: 1, workers: 1 })
  tcp = await serveDockerApi(rig.manager, { tcp: { host: '127.0.0.1', port: 0 } })
}, 120_000)

afterAll(async () => {
  await tcp?.close()
  await rig?.close()
})

/** Reads events from `stream` until `done(events)` holds, then destroys it. */
function collectEvents(stream: NodeJS.ReadableStream, done: (events: readonly EventJson[]) => boolean): Promise<EventJson[]> {
  return new Promise((resolve, reject) => {
    const events: EventJson[] = []
    let buffered = ''
    const readable = stream as NodeJS.ReadableStream & { destroy(): void }
    readable.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (line.trim() !== '') events.push(JSON.parse(line) as EventJson)
      }
      if (done(events)) {
        readable.destroy()
        resolve(events)
      }
    })
    readable.on('error', reject)
    readable.on('end', () => reject(new Error(`the event stream ended after ${String(events.length)} events`)))
  })
}

const transports: readonly { readonly name: string; readonly client: () => Docker }[] = [
  { name: 'the unix socket', client: () => new Docker({ socketPath: rig.server.socketPath }) },
  {
    name: 'TCP with mutual TLS (a manager’s certificate)',
    client: () => {
      const [host = '', port = ''] = (tcp.tcpAddress ?? '').split(':')
      const m = rig.manager.tls.current
      return new Docker({ protocol: 'https', host, port: Number(port), ca: m.trustBundlePem, cert: m.certChainPem, key: m.keyPem })
    },
  },
]

describe.each(transports)('dockerode over $name', ({ name, client }) => {
  const serviceName = `dko-${name.startsWith('TCP') ? 'tcp' : 'unix'}`

  it('creates a service, lists it, updates it with its version and watches the update converge, then removes it', async () => {
    const docker = client()
    const running = async (id: string): Promise<number> =>
      ((await docker.listTasks({ filters: { service: [id], 'desired-state': ['running'] } })) as TaskJson[]).filter((t) => t.ServiceID === id && t.Status.State === 'running').length

    const events = await docker.getEvents({ filters: { type: ['service'], service: [serviceName] } })
    const service = await docker.createService({
      Name: serviceName,
      Labels: { app: 'dockerode' },
      TaskTemplate: { ContainerSpec: { Image: 'busybox:fake', Command: ['sleep', '3600'] } },
      Mode: { Replicated: { Replicas: 2 } },
    })
    expect(service.id).toMatch(/^[a-z0-9]{25}$/)

    const listed = (await docker.listServices({ filters: { label: ['app=dockerode'], name: [serviceName] } })) as unknown as ServiceJson[]
    expect(listed.map((s) => [s.ID, s.Spec.Name, s.Spec.Mode.Replicated?.Replicas])).toEqual([[service.id, serviceName, 2]])
    await until(async () => (await running(service.id)) === 2, `2 tasks of ${serviceName} running`)

    const before = (await service.inspect()) as ServiceJson
    await service.update({ version: before.Version.Index, ...before.Spec, Mode: { Replicated: { Replicas: 3 } } })
    // Watched through /events: the create, then the update with Docker's replicas.old/new attributes.
    const scaled = (e: EventJson): boolean => e.Action === 'update' && e.Actor.Attributes['replicas.new'] === '3'
    const seen = await collectEvents(events, (evs) => evs.some(scaled))
    const [first] = seen
    expect(first === undefined ? undefined : { Type: first.Type, Action: first.Action, Actor: first.Actor, scope: first.scope }).toEqual({ Type: 'service', Action: 'create', Actor: { ID: service.id, Attributes: { name: serviceName } }, scope: 'swarm' })
    expect(seen.find(scaled)?.Actor).toEqual({ ID: service.id, Attributes: { name: serviceName, 'replicas.new': '3', 'replicas.old': '2' } })
    expect(seen.every((e) => e.Type === 'service' && e.Actor.ID === service.id)).toBe(true)
    const after = (await service.inspect()) as ServiceJson
    expect(after.Spec.Mode.Replicated?.Replicas).toBe(3)
    expect(after.Version.Index).toBeGreaterThan(before.Version.Index)
    await until(async () => (await running(service.id)) === 3, `3 tasks of ${serviceName} running`)

    // The same version again is stale now: refused, and nothing changes.
    await expect(service.update({ version: before.Version.Index, ...before.Spec })).rejects.toMatchObject({ statusCode: 409 })
    expect(((await service.inspect()) as ServiceJson).Spec.Mode.Replicated?.Replicas).toBe(3)

    await service.remove()
    expect(await docker.listServices({ filters: { name: [serviceName] } })).toEqual([])
    await expect(service.inspect()).rejects.toMatchObject({ statusCode: 404 })
  }, 240_000)
})

describe('dockerode updates of other objects with its usual { version, ...Spec }', () => {
  it('updates a secret’s and a config’s labels and a node’s availability', async () => {
    const docker = new Docker({ socketPath: rig.server.socketPath })
    // @types/dockerode types both creations as any: they resolve with dockerode's Secret / Config objects.
    const secret = (await docker.createSecret({ Name: 'dko-secret', Data: Buffer.from('s3cret').toString('base64') })) as Docker.Secret
    const config = (await docker.createConfig({ Name: 'dko-config', Data: Buffer.from('conf').toString('base64') })) as Docker.Config
    for (const payload of [secret, config]) {
      const before = (await payload.inspect()) as { Version: { Index: number }; Spec: { Name: string } }
      await payload.update({ version: before.Version.Index, ...before.Spec, Labels: { team: 'dockerode' } })
      const after = (await payload.inspect()) as { Spec: { Name: string; Labels: Record<string, string> } }
      expect(after.Spec).toMatchObject({ Name: before.Spec.Name, Labels: { team: 'dockerode' } })
      await payload.remove()
    }
    const w = rig.workers[0]
    if (w === undefined) throw new Error('no worker')
    const node = docker.getNode(w.nodeId)
    // A node's version also moves with its heartbeats and status: retry a stale one, as a client would.
    await until(async () => {
      const n = (await node.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> }
      return node.update({ version: n.Version.Index, ...n.Spec, Availability: 'pause' }).then(
        () => true,
        (err: { statusCode?: number }) => {
          if (err.statusCode === 409) return false
          throw err
        },
      )
    }, 'a node update with a current version')
    expect(((await node.inspect()) as { Spec: { Availability: string } }).Spec.Availability).toBe('pause')
  })
})

describe('dockerode over TCP without a manager certificate', () => {
  it('fails to connect with a certificate-less client, and is refused (403) with a worker’s certificate', async () => {
    const [host = '', port = ''] = (tcp.tcpAddress ?? '').split(':')
    const ca = rig.manager.tls.current.trustBundlePem
    await expect(new Docker({ protocol: 'https', host, port: Number(port), ca }).listServices()).rejects.toMatchObject({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' })
    const w = rig.workers[0]
    if (w === undefined) throw new Error('no worker')
    const { nodeCertificatePaths } = await import('@swarmkit-ts/core')
    const paths = nodeCertificatePaths(w.stateDir)
    const worker = new Docker({ protocol: 'https', host, port: Number(port), ca, cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.key, 'utf8') })
    await expect(worker.listServices()).rejects.toMatchObject({ statusCode: 403, json: { message: 'permission denied: role worker may not call this method (allowed: manager)' } })
  })
})
