/**
 * Classic containers through a follower manager's Docker API: its waits (stop, wait, attach)
 * read the follower's own replicated store, and its writes are forwarded to the leader.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveDockerApi, type DockerApiSocketServer } from '../src/index.ts'
import { DOCKER_CLIS, DockerRig, runDocker, until, type CliResult } from './rig.ts'

let rig: DockerRig
let follower: DockerApiSocketServer
let dir: string

beforeAll(async () => {
  rig = await DockerRig.start({ managers: 2, runtime: 'process', distinctHostnames: true })
  dir = await mkdtemp(join(tmpdir(), 'dkf-'))
  const second = rig.managers[1]
  if (second === undefined) throw new Error('no second manager')
  follower = await serveDockerApi(second, { socket: join(dir, 'docker.sock') })
}, 120_000)
afterAll(async () => {
  await follower?.close()
  await rig?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

// One CLI is enough here (both are run against the leader's API in containers.test.ts).
describe.each(DOCKER_CLIS.slice(0, 1))('classic containers through a follower manager with docker $version', (cli) => {
  const docker = (args: readonly string[]): Promise<CliResult> => runDocker(cli, follower.dockerHost, rig.configDir, args)

  it('runs attached, stops and removes containers with the follower\'s API', async () => {
    expect(rig.managers[1]?.manager.isLeader).toBe(false)
    const attached = await docker(['run', '--name', 'hello', '-e', 'constraint:node==manager-2', 'busybox', 'sh', '-c', 'echo hi; exit 4'])
    expect([attached.stdout, attached.code]).toEqual(['hi\n', 4])
    const run = await docker(['run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '3600'])
    expect(run.code).toBe(0)
    await until(async () => (await docker(['inspect', '-f', '{{.State.Status}}', 'sleeper'])).stdout.trim() === 'running', 'sleeper running')
    const stop = await docker(['stop', 'sleeper'])
    expect([stop.stdout, stop.stderr, stop.code]).toEqual(['sleeper\n', '', 0])
    expect((await docker(['inspect', '-f', '{{.State.Status}}', 'sleeper'])).stdout).toBe('exited\n')
    expect((await docker(['rm', '-f', 'sleeper', 'hello'])).stdout).toBe('sleeper\nhello\n')
  }, 240_000)
})
