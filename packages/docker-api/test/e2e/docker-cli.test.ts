/**
 * The whole path across processes: three managers, each a `swarmkit node start --docker-api
 * unix://…` process on the process runtime, driven by both real docker CLIs (Debian's 20.10 and
 * the newer one, negotiating down) through the leader's socket — version, info, node ls, a
 * published service with its converge progress (answering through the routing mesh), ls, ps,
 * scale, update, rollback, logs, rm, a secret from stdin, an overlay network, events — and
 * through a follower's. Deeper per-resource cases live in the in-process tests.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../../../scripts/test-support/http.ts'
import { DOCKER_CLIS, DEBIAN_DOCKER, until, type CliResult, type DockerCli } from '../rig.ts'
import { E2eDockerCluster, runSwarmkit } from './rig.ts'

/** A web server for the process runtime's `node` image: logs a greeting, answers `web <WHO>` on `PORT`. */
const WEB = "console.log('hello from ' + process.env.WHO); require('http').createServer((q, s) => s.end('web ' + process.env.WHO)).listen(Number(process.env.PORT))"

const lines = (r: CliResult): string[] => r.stdout.split('\n').filter((l) => l.trim() !== '')
/** The converge display's last line: 20.10 says "Service converged", 28.2 may name the service. */
const CONVERGED = /^verify: Service ([a-z0-9-]+ )?converged$/

/** GET http://127.0.0.1:port/ → the body, or undefined while nothing answers. */
function httpGet(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve(body))
    })
    req.once('timeout', () => req.destroy())
    req.once('error', () => resolve(undefined))
    req.end()
  })
}

describe.skipIf(DEBIAN_DOCKER === undefined)('the docker CLIs against a 3-manager cluster of swarmkit node processes (skipped without a docker CLI: CI installs docker.io)', { timeout: 240_000 }, () => {
  let cluster: E2eDockerCluster
  beforeAll(async () => {
    cluster = await E2eDockerCluster.start(DEBIAN_DOCKER as DockerCli)
  }, 240_000)
  afterAll(async () => {
    await cluster?.close()
  }, 120_000)

  it('prints the Docker API socket in the start output, and refuses a --docker-api that is no unix:// or tcp:// address', async () => {
    expect(cluster.node('m2').dockerApi).toBe(`unix://${cluster.dir}/m2-docker.sock`)
    const bad = await runSwarmkit(cluster.bin, ['node', 'start', 'init', '--state-dir', `${cluster.dir}/bad`, '--docker-api', 'http://127.0.0.1:2375'], cluster.dir)
    expect(bad).toEqual({ code: 2, stdout: '', stderr: 'swarmkit: InvalidArgumentError: --docker-api: must be unix:///path.sock or tcp://host:port, got "http://127.0.0.1:2375"\n' })
  })

  describe.each(DOCKER_CLIS)('docker $version', (cli) => {
    const n = DOCKER_CLIS.indexOf(cli)
    const web = `web${n}`
    const docker = (...args: string[]): Promise<CliResult> => cluster.docker(cli, 'm1', args)
    const since = (Date.now() / 1000).toFixed(3)

    it('version, info and node ls show the three managers', async () => {
      expect(await docker('version', '--format', '{{.Server.APIVersion}}')).toEqual({ code: 0, stdout: '1.41\n', stderr: '' })
      const info = await docker('info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.Managers}} {{.Swarm.Nodes}}')
      expect(info).toEqual({ code: 0, stdout: 'active true 3 3\n', stderr: '' })
      const ls = await docker('node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}} {{.Self}}')
      expect(ls.code).toBe(0)
      expect(lines(ls).sort()).toEqual(['m1 Ready Active Leader true', 'm2 Ready Active Reachable false', 'm3 Ready Active Reachable false'])
    })

    it('service create --replicas 3 --publish converges with the progress display, and the routing mesh answers', async () => {
      const port = await freePort()
      const r = await docker('service', 'create', '--name', web, '--replicas', '3', '--publish', `${port}:80`, '--env', `WHO=${web}`, 'node', 'node', '-e', WEB)
      expect(r.code).toBe(0)
      const out = lines(r)
      expect(out[0]).toMatch(/^[a-z0-9]{25}$/)
      expect(out).toContain('overall progress: 3 out of 3 tasks')
      expect(out.at(-1)).toMatch(CONVERGED)
      let body: string | undefined
      await until(async () => (body = await httpGet(port)) !== undefined, 'the published port')
      expect(body).toBe(`web ${web}`)
      const ls = await docker('service', 'ls', '--filter', `name=${web}`, '--format', '{{.Name}}|{{.Mode}}|{{.Replicas}}|{{.Image}}|{{.Ports}}')
      expect(ls).toEqual({ code: 0, stdout: `${web}|replicated|3/3|node:latest|*:${port}->80/tcp\n`, stderr: '' })
      const ps = await docker('service', 'ps', web, '--format', '{{.Name}}|{{.Node}}|{{.DesiredState}}|{{.CurrentState}}')
      const rows = lines(ps).map((l) => l.split('|'))
      expect(rows.map((row) => row[0]).sort()).toEqual([`${web}.1`, `${web}.2`, `${web}.3`])
      for (const row of rows) {
        expect(['m1', 'm2', 'm3']).toContain(row[1])
        expect(row[2]).toBe('Running')
        expect(row[3]).toMatch(/^Running /)
      }
    })

    it('service scale, update --env-add and rollback each converge; logs show every task', async () => {
      const scaled = await docker('service', 'scale', `${web}=2`)
      expect(scaled.code).toBe(0)
      expect(lines(scaled)[0]).toBe(`${web} scaled to 2`)
      expect(lines(scaled).at(-1)).toMatch(CONVERGED)
      expect((await docker('service', 'ls', '--filter', `name=${web}`, '--format', '{{.Replicas}}')).stdout).toBe('2/2\n')

      // Sorted: the CLI rebuilds the list from a Go map on --env-add (its order varies).
      const env = async (): Promise<string[]> => (JSON.parse((await docker('service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}', web)).stdout) as string[]).sort()
      const updated = await docker('service', 'update', '--env-add', 'EXTRA=1', web)
      expect(updated.code).toBe(0)
      expect(lines(updated).at(-1)).toMatch(CONVERGED)
      expect(await env()).toEqual(['EXTRA=1', `WHO=${web}`])

      const back = await docker('service', 'rollback', web)
      expect(back.code).toBe(0)
      expect(lines(back).slice(0, 2)).toEqual([web, 'rollback: manually requested rollback'])
      expect(lines(back).at(-1)).toMatch(CONVERGED)
      expect(await env()).toEqual([`WHO=${web}`])

      const logs = await docker('service', 'logs', web)
      expect(logs.code).toBe(0)
      const parsed = lines(logs).map((l) => /^(\S+)\.(\d)\.([a-z0-9]{12})@(m[123])\s+\| hello from (\S+)$/.exec(l))
      expect(parsed.length).toBeGreaterThanOrEqual(3)
      for (const m of parsed) expect([m?.[1], m?.[5]], logs.stdout).toEqual([web, web])
    })

    it('secret create from stdin and network create -d overlay; service rm; events --since lists it all', async () => {
      const created = await cluster.docker(cli, 'm1', ['secret', 'create', `pw${n}`, '-'], { stdin: 's3cret\n' })
      expect(created.stderr).toBe('')
      expect(lines(created)).toEqual([expect.stringMatching(/^[a-z0-9]{25}$/)])
      const secrets = await docker('secret', 'ls', '--filter', `name=pw${n}`, '--format', '{{.Name}}')
      expect(secrets).toEqual({ code: 0, stdout: `pw${n}\n`, stderr: '' })

      const net = await docker('network', 'create', '-d', 'overlay', `net${n}`)
      expect(net.code).toBe(0)
      expect(lines(net)).toEqual([expect.stringMatching(/^[a-z0-9]{25}$/)])
      const nets = await docker('network', 'ls', '--filter', `name=net${n}`, '--format', '{{.Name}} {{.Driver}} {{.Scope}}')
      expect(nets).toEqual({ code: 0, stdout: `net${n} overlay swarm\n`, stderr: '' })

      expect(await docker('service', 'rm', web)).toEqual({ code: 0, stdout: `${web}\n`, stderr: '' })

      const wanted = [`service create ${web}`, `secret create pw${n}`, `network create net${n}`, `service remove ${web}`]
      let seen: string[] = []
      await until(async () => {
        const r = await docker('events', '--since', since, '--until', (Date.now() / 1000).toFixed(3), '--filter', 'scope=swarm', '--format', '{{.Type}} {{.Action}} {{index .Actor.Attributes "name"}}')
        seen = lines(r).filter((l) => !l.includes(' update '))
        return wanted.every((w) => seen.includes(w))
      }, 'the events of this CLI run')
      const mine = seen.filter((l) => l.endsWith(` ${web}`) || l.endsWith(` pw${n}`) || l.endsWith(` net${n}`))
      expect(mine).toEqual(wanted)
    })

    it('works through a follower: a service created through m2 is listed by m1, and m2 reports its events', async () => {
      const api = `api${n}`
      const viaFollower = (...args: string[]): Promise<CliResult> => cluster.docker(cli, 'm2', args)
      const created = await viaFollower('service', 'create', '--detach', '--name', api, 'busybox', 'sleep', '3600')
      expect(created.code).toBe(0)
      const id = lines(created)[0]
      expect(id).toMatch(/^[a-z0-9]{25}$/)
      await until(async () => (await docker('service', 'ls', '--filter', `name=${api}`, '--format', '{{.ID}} {{.Replicas}}')).stdout === `${(id ?? '').slice(0, 12)} 1/1\n`, 'the service running, seen from m1')
      expect((await viaFollower('node', 'ls', '--format', '{{.Hostname}} {{.Self}}')).stdout.split('\n').sort()).toEqual(['', 'm1 false', 'm2 true', 'm3 false'])
      expect(await viaFollower('service', 'rm', api)).toEqual({ code: 0, stdout: `${api}\n`, stderr: '' })
      await until(async () => {
        const r = await viaFollower('events', '--since', since, '--until', (Date.now() / 1000).toFixed(3), '--filter', 'type=service', '--filter', `service=${api}`, '--format', '{{.Action}}')
        return lines(r).filter((a) => a !== 'update').join(',') === 'create,remove'
      }, "the follower's service events")
    })
  })

  it('stops serving the Docker API on a demoted manager, and serves it again once the node is promoted', async () => {
    const cli = DEBIAN_DOCKER as DockerCli
    const m3 = cluster.dockerHost('m3')
    const onM3 = (): Promise<CliResult> => cluster.docker(cli, 'm3', ['version', '--format', '{{.Server.APIVersion}}'])
    expect((await cluster.docker(cli, 'm1', ['node', 'demote', 'm3'])).stdout).toBe('Manager m3 demoted in the swarm.\n')
    await until(() => cluster.reports('m3').some((r) => r.role === 'worker'), 'm3 reporting itself a worker')
    expect(cluster.reports('m3').at(-1)).toEqual({ nodeId: cluster.node('m3').nodeId, role: 'worker', address: expect.any(String) as string })
    const refused = await onM3()
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('Cannot connect to the Docker daemon at unix://')

    expect((await cluster.docker(cli, 'm1', ['node', 'promote', 'm3'])).stdout).toBe('Node m3 promoted to a manager in the swarm.\n')
    await until(() => cluster.reports('m3').at(-1)?.role === 'manager', 'm3 reporting itself a manager again')
    expect(cluster.reports('m3').at(-1)?.dockerApi).toBe(m3)
    await until(async () => (await onM3()).stdout === '1.41\n', "m3's Docker API answering again")
  })
})
