import { spawn } from 'node:child_process'
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeProcessImage } from '@swarmkit-ts/core'
import { freePort } from '../../../scripts/test-support/http.ts'
import { DOCKER_CLIS, DockerRig } from './rig.ts'

// Two "images" of the process runtime: the host's shell tools, each telling its name in $IMAGE, so
// an update of the image shows in the logs.
const SHELL = { path: ['/usr/bin', '/bin'] }
const IMAGES = { node: nodeProcessImage(), 'shell:1': { ...SHELL, env: { IMAGE: 'shell:1' } }, 'shell:2': { ...SHELL, env: { IMAGE: 'shell:2' } } }

let rig: DockerRig
beforeAll(async () => {
  rig = await DockerRig.start({ runtime: 'process', node: { runtimeOptions: { process: { images: IMAGES } } } })
}, 120_000)
afterAll(async () => {
  await rig?.close()
})

/** Docker's warning when an image cannot be pinned to a registry digest (the CLI prints it on stderr). */
const digestWarning = (image: string): string =>
  `image ${image} could not be accessed on a registry to record\nits digest. Each node will access ${image} independently,\npossibly leading to different nodes running different\nversions of the image.\n\n`

const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '')

/** The last line of the converge display: 20.10 says "Service converged", 28.2 names the service. */
const converged = (service: string): RegExp => new RegExp(`^verify: Service (${service} |[a-z0-9]{25} )?converged$`)

describe.each(DOCKER_CLIS)('docker service ($version) against a manager', (cli) => {
  const n = DOCKER_CLIS.indexOf(cli)
  const web = `web${n}`
  let port = 0

  const docker = (...args: string[]): ReturnType<DockerRig['docker']> => rig.docker(cli, args)
  const inspect = async <T>(format: string): Promise<T> => {
    const r = await docker('service', 'inspect', '--format', `{{json ${format}}}`, web)
    expect(r.stderr).toBe('')
    return JSON.parse(r.stdout) as T
  }

  it('service create --replicas 3 --publish shows the converge progress until "verify: Service converged"', async () => {
    port = await freePort()
    const r = await docker('service', 'create', '--name', web, '--replicas', '3', '--publish', `${port}:80`, '--update-monitor', '1s', 'shell:1', 'sh', '-c', 'echo "hello from $IMAGE"; exec sleep 3600')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(digestWarning('shell:1'))
    const out = lines(r.stdout)
    expect(out[0]).toMatch(/^[a-z0-9]{25}$/)
    expect(out).toContain('overall progress: 3 out of 3 tasks')
    expect(out.at(-1)).toMatch(converged(web))
    expect(await rig.manager.services.get(web)).toMatchObject({ id: out[0], spec: { mode: { replicated: { replicas: 3 } } } })
  }, 240_000)

  it('service ls prints REPLICAS 3/3, the image and the published port', async () => {
    const r = await docker('service', 'ls', '--filter', `name=${web}`, '--format', '{{.Name}}|{{.Mode}}|{{.Replicas}}|{{.Image}}|{{.Ports}}')
    expect(r).toEqual({ code: 0, stdout: `${web}|replicated|3/3|shell:1|*:${port}->80/tcp\n`, stderr: '' })
  })

  it('service ps prints each slot on its node, desired and current state Running', async () => {
    const r = await docker('service', 'ps', web, '--format', '{{.Name}}|{{.Node}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}')
    expect(r.code).toBe(0)
    const rows = lines(r.stdout).map((l) => l.split('|'))
    expect(rows.map(([name, node, desired]) => [name, node, desired])).toEqual([1, 2, 3].map((i) => [`${web}.${i}`, hostname(), 'Running']))
    for (const row of rows) expect(row[3]).toMatch(/^Running (\d+|about a|less than a) (seconds?|minutes?) ago$/)
  })

  it('service inspect gives Docker JSON (Spec, Endpoint) and --pretty the readable form', async () => {
    const spec = await inspect<Record<string, unknown>>('.Spec')
    expect(spec).toMatchObject({
      Name: web,
      Mode: { Replicated: { Replicas: 3 } },
      TaskTemplate: { ContainerSpec: { Image: 'shell:1', Args: ['sh', '-c', 'echo "hello from $IMAGE"; exec sleep 3600'] }, Runtime: 'container' },
      UpdateConfig: { Parallelism: 1, Monitor: 1_000_000_000 },
      EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port, PublishMode: 'ingress' }] },
    })
    expect(await inspect<unknown>('.Endpoint.Ports')).toEqual([{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port, PublishMode: 'ingress' }])
    const pretty = await docker('service', 'inspect', '--pretty', web)
    expect(pretty.code).toBe(0)
    expect(lines(pretty.stdout)).toEqual(expect.arrayContaining([`Name:\t\t${web}`, 'Service Mode:\tReplicated', ' Replicas:\t3', ' Image:\t\tshell:1', ` PublishedPort = ${port}`]))
  })

  it('service scale web=5 converges to 5/5', async () => {
    const r = await docker('service', 'scale', `${web}=5`)
    expect(r.code).toBe(0)
    const out = lines(r.stdout)
    expect(out[0]).toBe(`${web} scaled to 5`)
    expect(out.at(-1)).toMatch(converged(web))
    const ls = await docker('service', 'ls', '--filter', `name=${web}`, '--format', '{{.Replicas}}')
    expect(ls.stdout).toBe('5/5\n')
  }, 240_000)

  it('service update --env-add rolls every task with its progress, and the spec keeps the rest', async () => {
    const r = await docker('service', 'update', '--env-add', 'FOO=bar', web)
    expect(r.code).toBe(0)
    const out = lines(r.stdout)
    expect(out[0]).toBe(web)
    expect(out).toContain('overall progress: 5 out of 5 tasks')
    expect(out.at(-1)).toMatch(converged(web))
    expect(await inspect<unknown>('.Spec.TaskTemplate.ContainerSpec.Env')).toEqual(['FOO=bar'])
    expect(await inspect<unknown>('.Spec.EndpointSpec.Ports')).toEqual([{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port, PublishMode: 'ingress' }])
    const running = await rig.manager.tasks.list({ serviceIds: [(await rig.manager.services.get(web)).id], desiredStates: [512] })
    expect(running.map((t) => t.spec.container?.env)).toEqual(Array(5).fill(['FOO=bar']))
  }, 240_000)

  it('service update --image, then service rollback, each converge; the logs show both images', async () => {
    const up = await docker('service', 'update', '--image', 'shell:2', web)
    expect(up.code).toBe(0)
    expect(up.stderr).toBe(digestWarning('shell:2'))
    expect(lines(up.stdout).at(-1)).toMatch(converged(web))
    expect(await inspect<unknown>('.Spec.TaskTemplate.ContainerSpec.Image')).toBe('shell:2')
    expect(await inspect<unknown>('.PreviousSpec.TaskTemplate.ContainerSpec.Image')).toBe('shell:1')

    const back = await docker('service', 'rollback', web)
    expect(back.code).toBe(0)
    const out = lines(back.stdout)
    expect(out.slice(0, 2)).toEqual([web, 'rollback: manually requested rollback'])
    expect(out.at(-1)).toMatch(converged(web))
    expect(await inspect<unknown>('.Spec.TaskTemplate.ContainerSpec.Image')).toBe('shell:1')

    const logs = await docker('service', 'logs', web)
    expect(logs.code).toBe(0)
    const parsed = lines(logs.stdout).map((l) => /^(\S+)\.(\d)\.([a-z0-9]+)@(\S+)\s+\| hello from (shell:\d)$/.exec(l))
    expect(parsed.every((m) => m !== null && m[1] === web && m[4] === hostname())).toBe(true)
    expect(new Set(parsed.map((m) => m?.[5]))).toEqual(new Set(['shell:1', 'shell:2']))
  }, 240_000)

  it('service rm removes it: ls no longer lists it, inspect fails with the CLI\'s "no such service"', async () => {
    const r = await docker('service', 'rm', web)
    expect(r).toEqual({ code: 0, stdout: `${web}\n`, stderr: '' })
    expect((await docker('service', 'ls', '--filter', `name=${web}`, '-q')).stdout).toBe('')
    const gone = await docker('service', 'inspect', web)
    expect(gone.code).toBe(1)
    // 20.10 wraps it: "Status: Error: no such service: web0, Code: 1".
    expect(gone.stderr).toMatch(new RegExp(`^(Status: )?Error: no such service: ${web}(, Code: 1)?\n$`))
  })

  it('service logs -f delivers lines written later, until the CLI is stopped', async () => {
    const ticker = `ticker${n}`
    const c = await docker('service', 'create', '--detach', '--name', ticker, 'shell:1', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done')
    expect(c.code).toBe(0)
    const child = spawn(cli.path, ['service', 'logs', '-f', '--raw', ticker], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: rig.configDir, DOCKER_CONFIG: rig.configDir, DOCKER_HOST: rig.dockerHost },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const ticks = new Set<string>()
    try {
      await new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error(`no follow-up lines in time: ${[...ticks].join(', ')}`)), 120_000)
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          for (const l of lines(d)) ticks.add(l)
          // More lines than the service had written when the command started: follow works.
          if (ticks.size >= 5) {
            clearTimeout(guard)
            resolve()
          }
        })
        child.once('exit', (code) => reject(new Error(`logs -f exited (${code}) before the lines arrived`)))
      })
    } finally {
      child.kill('SIGTERM')
    }
    for (const t of ticks) expect(t).toMatch(/^tick \d+$/)
    // The CLI ends when stopped: the server's stream goes with it (the rig's close would hang otherwise).
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve))
    expect((await docker('service', 'rm', ticker)).code).toBe(0)
  }, 240_000)
})
