import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CLIS, DockerRig, until, type DockerCli } from './rig.ts'

/** The columns of `docker ps` as a `--format` table: one object per line. */
interface PsRow {
  readonly id: string
  readonly names: string
  readonly image: string
  readonly status: string
  readonly state: string
}

let rig: DockerRig
beforeAll(async () => {
  rig = await DockerRig.start({ managers: 1, workers: 1, runtime: 'process', distinctHostnames: true })
}, 120_000)
afterAll(async () => {
  await rig?.close()
})

async function ps(cli: DockerCli, args: readonly string[] = []): Promise<PsRow[]> {
  const r = await rig.docker(cli, ['ps', ...args, '--no-trunc', '--format', '{{.ID}}|{{.Names}}|{{.Image}}|{{.Status}}|{{.State}}'])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [id = '', names = '', image = '', status = '', state = ''] = l.split('|')
      return { id, names, image, status, state }
    })
}

async function stateOf(cli: DockerCli, name: string): Promise<string> {
  const r = await rig.docker(cli, ['inspect', '-f', '{{.State.Status}}', name])
  return r.stdout.trim()
}

describe.each(DOCKER_CLIS)('classic containers with docker $version', (cli) => {
  const tag = cli.version.replace(/[^0-9]/g, '')
  const web = `web-${tag}`
  const echo = `echo-${tag}`

  it('docker run -d -e constraint:node==worker-1 places the container on that node and docker ps lists it node-prefixed', async () => {
    const run = await rig.docker(cli, ['run', '-d', '--name', web, '-e', 'constraint:node==worker-1', '-e', 'GREETING=hi', 'busybox', 'sleep', '3600'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const id = run.stdout.trim()
    expect(id).toMatch(/^[0-9a-z]{25}$/)
    await until(async () => (await stateOf(cli, web)) === 'running', `${web} running`)
    const worker = rig.workers[0]
    const tasks = await rig.manager.tasks.list({ serviceIds: [id] })
    expect(tasks.map((t) => t.nodeId)).toEqual([worker?.nodeId])
    expect(tasks[0]?.spec.container?.env).toEqual(['GREETING=hi'])
    const rows = (await ps(cli)).filter((r) => r.id === id)
    expect(rows).toHaveLength(1)
    expect(rows[0]?.names).toBe(`worker-1/${web}`)
    expect(rows[0]?.image).toBe('busybox')
    expect(rows[0]?.state).toBe('running')
    expect(rows[0]?.status).toMatch(/^Up /)
    const short = await rig.docker(cli, ['inspect', '-f', '{{.Name}}', id.slice(0, 12)])
    expect(short.stdout).toBe(`/${web}\n`)
    expect((await ps(cli, ['--filter', 'node=worker-1'])).some((r) => r.id === id)).toBe(true)
    expect((await ps(cli, ['--filter', 'node=manager-1'])).some((r) => r.id === id)).toBe(false)
    expect((await ps(cli, ['-a', '--filter', 'status=exited'])).some((r) => r.id === id)).toBe(false)
  }, 240_000)

  it('docker inspect shows the state, the config and classic\'s Node section', async () => {
    const r = await rig.docker(cli, ['inspect', web])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const [doc] = JSON.parse(r.stdout) as [{ Name: string; State: { Status: string; Running: boolean; StartedAt: string }; Config: { Image: string; Cmd: string[]; Env: string[] }; Node: { Name: string; ID: string }; HostConfig: { RestartPolicy: { Name: string } } }]
    expect(doc.Name).toBe(`/${web}`)
    expect(doc.State.Status).toBe('running')
    expect(doc.State.Running).toBe(true)
    expect(doc.State.StartedAt).toMatch(/^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)
    expect(doc.Config.Image).toBe('busybox')
    expect(doc.Config.Cmd).toEqual(['sleep', '3600'])
    expect(doc.Config.Env).toEqual(['GREETING=hi'])
    expect(doc.HostConfig.RestartPolicy.Name).toBe('no')
    expect(doc.Node.Name).toBe('worker-1')
    expect(doc.Node.ID).toBe(rig.workers[0]?.nodeId)
  }, 240_000)

  it('docker logs prints what the container wrote on stdout and stderr, and ps -a shows it exited', async () => {
    const run = await rig.docker(cli, ['run', '-d', '--name', echo, 'busybox', 'sh', '-c', 'echo out; echo err >&2'])
    expect(run.code).toBe(0)
    await until(async () => (await stateOf(cli, echo)) === 'exited', `${echo} exited`)
    const logs = await rig.docker(cli, ['logs', echo])
    expect(logs.code).toBe(0)
    expect(logs.stdout).toBe('out\n')
    expect(logs.stderr).toBe('err\n')
    const tail = await rig.docker(cli, ['logs', '--tail', '1', '-t', echo])
    const lines = `${tail.stdout}${tail.stderr}`.split('\n').filter((l) => l !== '')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (out|err)$/)
    const all = (await ps(cli, ['-a', '--filter', `name=${echo}`])).map((r) => r.status.replace(/\) .*$/, ')'))
    expect(all).toEqual(['Exited (0)'])
    expect((await ps(cli)).some((r) => r.names.endsWith(`/${echo}`))).toBe(false)
  }, 240_000)

  it('docker logs -f follows new lines until the client is killed, and docker attach shows only new lines', async () => {
    const name = `ticker-${tag}`
    const run = await rig.docker(cli, ['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'i=0; while true; do echo line$i; i=$((i+1)); sleep 0.2; done'])
    expect(run.code).toBe(0)
    const child = spawn(cli.path, ['logs', '-f', name], { env: { PATH: process.env['PATH'] ?? '', HOME: rig.configDir, DOCKER_HOST: rig.dockerHost, DOCKER_CONFIG: rig.configDir } })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
    try {
      await until(() => out.split('\n').length > 4, 'four followed lines')
    } finally {
      child.kill('SIGTERM')
      await closed
    }
    expect(out.split('\n').slice(0, 4)).toEqual(['line0', 'line1', 'line2', 'line3'])
    // docker attach to the running container: only lines written from now on.
    const attach = spawn(cli.path, ['attach', '--no-stdin', name], { env: { PATH: process.env['PATH'] ?? '', HOME: rig.configDir, DOCKER_HOST: rig.dockerHost, DOCKER_CONFIG: rig.configDir } })
    let attached = ''
    attach.stdout.setEncoding('utf8').on('data', (d: string) => (attached += d))
    const detached = new Promise<void>((resolve) => attach.once('close', () => resolve()))
    try {
      await until(() => attached.split('\n').length > 2, 'two attached lines')
    } finally {
      attach.kill('SIGKILL')
      await detached
    }
    const [first = '', second = ''] = attached.split('\n')
    expect(first).toMatch(/^line\d+$/)
    expect(first).not.toBe('line0')
    expect(Number(second.slice(4))).toBe(Number(first.slice(4)) + 1)
    const rm = await rig.docker(cli, ['rm', '-f', name])
    expect(rm.code).toBe(0)
  }, 240_000)

  it('docker stop ends the task and keeps the container, exited, for ps -a; docker start runs it again', async () => {
    const stop = await rig.docker(cli, ['stop', web])
    expect(stop.stderr).toBe('')
    expect(stop.code).toBe(0)
    expect(stop.stdout.trim()).toBe(web)
    expect(await stateOf(cli, web)).toBe('exited')
    const rows = await ps(cli, ['-a', '--filter', `name=${web}`])
    expect(rows.map((r) => [r.names, r.state])).toEqual([[`worker-1/${web}`, 'exited']])
    expect(rows[0]?.status).toMatch(/^Exited \(\d+\) /)
    const again = await rig.docker(cli, ['stop', web])
    expect(again.code).toBe(0)
    const start = await rig.docker(cli, ['start', web])
    expect(start.stderr).toBe('')
    expect(start.code).toBe(0)
    await until(async () => (await stateOf(cli, web)) === 'running', `${web} running again`)
  }, 240_000)

  it('docker restart runs a new task, and docker start -a attaches to an exited container\'s next run', async () => {
    const before = await rig.docker(cli, ['inspect', '-f', '{{.State.StartedAt}}', web])
    const restart = await rig.docker(cli, ['restart', web])
    expect(restart.stderr).toBe('')
    expect(restart.code).toBe(0)
    await until(async () => (await stateOf(cli, web)) === 'running', `${web} running after the restart`)
    const after = await rig.docker(cli, ['inspect', '-f', '{{.State.StartedAt}}', web])
    expect(after.stdout).not.toBe(before.stdout)
    const start = await rig.docker(cli, ['start', '-a', echo])
    expect(start.stdout).toBe('out\n')
    expect(start.stderr).toBe('err\n')
    expect(start.code).toBe(0)
  }, 240_000)

  it('docker rm refuses a running container without -f, and docker rm -f removes it', async () => {
    const rm = await rig.docker(cli, ['rm', web])
    expect(rm.code).toBe(1)
    expect(rm.stderr).toContain('You cannot remove a running container')
    const forced = await rig.docker(cli, ['rm', '-f', web])
    expect(forced.stderr).toBe('')
    expect(forced.code).toBe(0)
    expect(forced.stdout.trim()).toBe(web)
    expect((await ps(cli, ['-a'])).some((r) => r.names.endsWith(web))).toBe(false)
    const gone = await rig.docker(cli, ['inspect', web])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain(`No such object: ${web}`)
  }, 240_000)

  it('docker run without -d attaches: prints the output and exits with the container\'s code', async () => {
    const r = await rig.docker(cli, ['run', '--name', `attach-${tag}`, 'busybox', 'sh', '-c', 'echo hello; echo oops >&2; exit 3'])
    expect(r.stdout).toBe('hello\n')
    expect(r.stderr).toBe('oops\n')
    expect(r.code).toBe(3)
    const rm = await rig.docker(cli, ['rm', `attach-${tag}`])
    expect(rm.code).toBe(0)
  }, 240_000)

  it('docker run --rm removes the container once it ends, attached or detached', async () => {
    const attached = await rig.docker(cli, ['run', '--rm', '--name', `rm-${tag}`, 'busybox', 'echo', 'hi'])
    expect(attached.stdout).toBe('hi\n')
    expect(attached.code).toBe(0)
    expect((await rig.docker(cli, ['inspect', `rm-${tag}`])).code).toBe(1)
    const detached = await rig.docker(cli, ['run', '-d', '--rm', '--name', `rmd-${tag}`, 'busybox', 'true'])
    expect(detached.code).toBe(0)
    await until(async () => (await rig.docker(cli, ['inspect', `rmd-${tag}`])).code === 1, `rmd-${tag} removed`)
  }, 240_000)

  it('docker build is refused (501) saying where to build instead', async () => {
    const dir = await rig.tempDir('dkb-')
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\n')
    const r = await rig.docker(cli, ['build', '.'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Error response from daemon: build is not supported by swarmkit-ts: build the image elsewhere')
  }, 240_000)

  it('docker run -p 80 publishes on a port the node picks (docker port, ps), and --network attaches an overlay network with its alias', async () => {
    const net = `net-${tag}`
    await rig.manager.networks.create({ annotations: { name: net }, driverConfig: { name: 'overlay' } })
    const run = await rig.docker(cli, ['run', '-d', '-p', '80', '--network', net, '--network-alias', 'db', '--name', `pub-${tag}`, 'busybox', 'sleep', '3600'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const service = await rig.manager.services.get(run.stdout.trim())
    expect(service.spec.task.networks).toEqual([{ target: net, aliases: ['db'] }])
    expect(service.spec.endpoint?.ports).toEqual([{ protocol: 'tcp', targetPort: 80, publishMode: 'host' }])
    await until(async () => (await rig.docker(cli, ['port', `pub-${tag}`])).stdout !== '', `pub-${tag} published`)
    const port = await rig.docker(cli, ['port', `pub-${tag}`])
    expect(port.stdout).toMatch(/^80\/tcp -> 0\.0\.0\.0:[1-9]\d*\n$/)
    const published = port.stdout.trim().split(':').pop()
    const row = (await ps(cli)).find((r) => r.names.endsWith(`/pub-${tag}`))
    expect(row?.status).toMatch(/^Up /)
    const ports = await rig.docker(cli, ['ps', '--filter', `name=pub-${tag}`, '--format', '{{.Ports}}'])
    expect(ports.stdout.trim()).toBe(`0.0.0.0:${published}->80/tcp`)
    expect((await rig.docker(cli, ['rm', '-f', `pub-${tag}`])).code).toBe(0)
  }, 240_000)

  it('a name taken by a swarm service is refused with Docker\'s conflict wording', async () => {
    const svc = await rig.manager.services.create({ annotations: { name: `svc-${tag}` }, mode: { replicated: { replicas: 0 } }, task: { container: { image: 'busybox' } } })
    const r = await rig.docker(cli, ['run', '-d', '--name', `svc-${tag}`, 'busybox', 'true'])
    expect(r.code).toBe(125)
    expect(r.stderr).toContain(`Conflict. The container name "/svc-${tag}" is already in use by service "${svc.id}" (a container is a service here).`)
  }, 240_000)

  it('lists the tasks of swarm services as containers, node-prefixed and read only (inspect, logs; stop refused)', async () => {
    const svc = await rig.manager.services.create({ annotations: { name: `swarm-${tag}` }, mode: { replicated: { replicas: 2 } }, task: { container: { image: 'busybox', command: ['sh', '-c', 'echo from-task; sleep 3600'] } } })
    try {
      await until(async () => (await ps(cli, ['--filter', `name=swarm-${tag}.`])).length === 2, `both tasks of swarm-${tag} listed`)
      const tasks = await rig.manager.tasks.list({ serviceIds: [svc.id] })
      const rows = await ps(cli, ['--filter', `name=swarm-${tag}.`])
      const hosts = new Map([rig.manager, ...rig.workers].map((n) => [n.nodeId, n === rig.manager ? 'manager-1' : 'worker-1']))
      expect(rows.map((r) => r.names).sort()).toEqual(tasks.map((t) => `${hosts.get(t.nodeId) ?? ''}/swarm-${tag}.${t.slot}.${t.id}`).sort())
      const name = `swarm-${tag}.${tasks[0]?.slot ?? 0}.${tasks[0]?.id ?? ''}`
      const inspect = await rig.docker(cli, ['inspect', '-f', '{{.State.Status}} {{json .Config.Entrypoint}}', name])
      expect(inspect.stdout).toBe('running ["sh","-c","echo from-task; sleep 3600"]\n')
      await until(async () => (await rig.docker(cli, ['logs', name])).stdout === 'from-task\n', `the logs of ${name}`)
      const stop = await rig.docker(cli, ['stop', name])
      expect(stop.code).toBe(1)
      expect(stop.stderr).toContain(`container ${name} is task ${tasks[0]?.id ?? ''} of service swarm-${tag}, which manages it: use docker service scale / update / rm swarm-${tag}`)
    } finally {
      await rig.manager.services.remove(svc.id)
    }
  }, 240_000)
})
