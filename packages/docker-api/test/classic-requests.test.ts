import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CLIS, DockerRig, until, type DockerCli } from './rig.ts'

// The fake runtime runs the image busybox:fake (its default image) without processes.
let rig: DockerRig
beforeAll(async () => {
  rig = await DockerRig.start({ managers: 1, workers: 1, runtime: 'fake', distinctHostnames: true })
}, 120_000)
afterAll(async () => {
  await rig?.close()
})

/** One HTTP request on the rig's socket: status and parsed JSON body. */
function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body)
    const req = request({ socketPath: rig.server.socketPath, method, path, headers: data === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) }))
    })
    req.once('error', reject)
    req.end(data)
  })
}

async function classicCount(): Promise<number> {
  return (await rig.manager.services.list({ labels: { 'com.swarmkit-ts.classic.container': 'true' } })).length
}

describe('classic container requests refused before anything is created', () => {
  const cases: readonly (readonly [what: string, body: unknown, status: number, message: string])[] = [
    ['an unknown field, by its path', { Image: 'busybox', HostConfig: { Bogus: 1 } }, 400, 'HostConfig.Bogus: unknown field'],
    ['a non-zero field that cannot map', { Image: 'busybox', HostConfig: { Privileged: true } }, 400, 'HostConfig.Privileged: not supported by swarmkit-ts: privileged containers'],
    ['a classic regular expression', { Image: 'busybox', Env: ['constraint:node==/worker-.*/'] }, 400, 'Env[0]: regular expressions are not supported by swarmkit-ts: "constraint:node==/worker-.*/" (name one value)'],
    ['a classic soft rule', { Image: 'busybox', Env: ['A=1', 'constraint:node==~worker-1'] }, 400, 'Env[1]: soft rules (==~) are not supported by swarmkit-ts: "constraint:node==~worker-1" (use == or !=)'],
    ['an affinity to a container that does not run', { Image: 'busybox', Env: ['affinity:container==nowhere'] }, 400, 'Env[0]: affinity:container==nowhere: no running container "nowhere"'],
    ['a missing image', { Cmd: ['true'] }, 400, 'Image: an image is required'],
    ['a TTY', { Image: 'busybox', Tty: true }, 501, 'a TTY (docker run -t) is not supported by swarmkit-ts: a task has no terminal; run it without -t and follow its output with docker logs -f'],
  ]
  it.each(cases)('%s', async (_what, body, status, message) => {
    const before = await classicCount()
    const r = await call('POST', '/v1.41/containers/create?name=refused', body)
    expect(r).toEqual({ status, body: { message } })
    expect(await classicCount()).toBe(before)
  })

  it('a name that is not a DNS label is refused naming it', async () => {
    const r = await call('POST', '/v1.41/containers/create?name=my.app', { Image: 'busybox' })
    expect(r.status).toBe(400)
    expect((r.body as { message: string }).message).toMatch(/^name: Invalid container name \(my\.app\)/)
  })

  it('an unknown container is 404 "No such container"', async () => {
    expect(await call('POST', '/v1.41/containers/nothing-here/start')).toEqual({ status: 404, body: { message: 'No such container: nothing-here' } })
  })
})

describe('classic constraints and affinities place the container', () => {
  it('affinity:container==x lands next to x, and constraint:node!=… keeps off a node', async () => {
    const worker = rig.workers[0]?.nodeId ?? ''
    const first = await call('POST', '/v1.41/containers/create?name=anchor', { Image: 'busybox:fake', Cmd: ['sleep', '3600'], Env: ['constraint:node==worker-1'] })
    expect(first.status).toBe(201)
    const anchorId = (first.body as { Id: string }).Id
    expect((await call('POST', `/v1.41/containers/${anchorId}/start`)).status).toBe(204)
    await until(async () => (await rig.manager.tasks.list({ serviceIds: [anchorId] })).some((t) => t.nodeId === worker && t.status.state === 512), 'anchor running on worker-1')
    const next = await call('POST', '/v1.41/containers/create?name=next', { Image: 'busybox:fake', Cmd: ['sleep', '3600'], Env: ['affinity:container==anchor'] })
    expect(next.status).toBe(201)
    const away = await call('POST', '/v1.41/containers/create?name=away', { Image: 'busybox:fake', Cmd: ['sleep', '3600'], Env: ['constraint:node!=worker-1'] })
    const specs = await Promise.all([next, away].map((r) => rig.manager.services.get((r.body as { Id: string }).Id)))
    expect(specs.map((s) => s.spec.task.placement?.constraints)).toEqual([[`node.id==${worker}`], ['node.hostname!=worker-1']])
    expect(specs.map((s) => s.spec.task.container?.env)).toEqual([undefined, undefined])
  }, 240_000)
})

describe.each(DOCKER_CLIS)('images and refusals with docker $version', (cli: DockerCli) => {
  const tag = cli.version.replace(/[^0-9]/g, '')

  it('docker pull answers at once, and docker images lists each node\'s images node-prefixed', async () => {
    const pull = await rig.docker(cli, ['pull', 'busybox'])
    expect(pull.code).toBe(0)
    const run = await rig.docker(cli, ['run', '-d', '--name', `img-${tag}`, '-e', 'constraint:node==worker-1', 'busybox:fake', 'sleep', '3600'])
    expect(run.code).toBe(0)
    await until(async () => (await rig.manager.tasks.list({ serviceIds: [run.stdout.trim()] })).some((t) => t.nodeId !== ''), 'the task placed')
    const images = await rig.docker(cli, ['images', '--format', '{{.Repository}} {{.Tag}}'])
    expect(images.stderr).toBe('')
    expect(images.code).toBe(0)
    expect(images.stdout.split('\n')).toContain('worker-1/busybox fake')
    const inspect = await rig.docker(cli, ['image', 'inspect', '-f', '{{json .RepoTags}}', 'busybox:fake'])
    expect(inspect.stdout.trim()).toBe('["worker-1/busybox:fake"]')
  }, 240_000)

  it('docker exec is refused (501) saying what to use instead', async () => {
    const r = await rig.docker(cli, ['exec', `img-${tag}`, 'ls'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('exec is not supported by swarmkit-ts: a task runs on a node the Docker API does not reach into')
  }, 240_000)

  it('docker run -t is refused before anything is created', async () => {
    const r = await rig.docker(cli, ['run', '-d', '-t', '--name', `tty-${tag}`, 'busybox', 'true'])
    expect(r.code).toBe(125)
    expect(r.stderr).toContain('a TTY (docker run -t) is not supported by swarmkit-ts')
    expect((await rig.docker(cli, ['inspect', `tty-${tag}`])).code).toBe(1)
  }, 240_000)

  it('docker run -i is refused before anything is created', async () => {
    const r = await rig.docker(cli, ['run', '-i', '--name', `stdin-${tag}`, 'busybox:fake', 'cat'], { stdin: 'x\n' })
    expect(r.code).toBe(125)
    expect(r.stderr).toContain('attaching stdin (docker run -i) is not supported by swarmkit-ts')
    expect((await rig.docker(cli, ['inspect', `stdin-${tag}`])).code).toBe(1)
  }, 240_000)

  it('docker kill -s HUP is refused; docker kill stops the container', async () => {
    await until(async () => (await rig.docker(cli, ['inspect', '-f', '{{.State.Status}}', `img-${tag}`])).stdout.trim() === 'running', 'the container running')
    const hup = await rig.docker(cli, ['kill', '-s', 'HUP', `img-${tag}`])
    expect(hup.code).toBe(1)
    expect(hup.stderr).toContain('sending signal HUP (docker kill -s) is not supported by swarmkit-ts')
    const kill = await rig.docker(cli, ['kill', `img-${tag}`])
    expect(kill.stderr).toBe('')
    expect(kill.code).toBe(0)
    expect((await rig.docker(cli, ['inspect', '-f', '{{.State.Status}}', `img-${tag}`])).stdout.trim()).toBe('exited')
  }, 240_000)
})
