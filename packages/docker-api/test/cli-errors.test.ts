/**
 * What a user sees when a docker command is wrong: a flag value the CLI itself refuses stops in
 * the CLI (its own message, exit 125 before any request), and a value only the cluster refuses
 * comes back through the CLI's normal error path (`Error response from daemon: …`, exit 1) naming
 * the Docker field — with nothing created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CLIS, DockerRig } from './rig.ts'

let rig: DockerRig
beforeAll(async () => {
  rig = await DockerRig.start()
}, 120_000)
afterAll(async () => {
  await rig?.close()
})

/** The services called `name`. */
const named = async (name: string): Promise<string[]> => (await rig.manager.services.list()).map((s) => s.spec.annotations.name).filter((x) => x === name)

describe.each(DOCKER_CLIS)('bad flag values with docker $version', (cli) => {
  const n = DOCKER_CLIS.indexOf(cli)

  it('a flag value the CLI cannot parse is refused by the CLI itself, exit 125, nothing created', async () => {
    const r = await rig.docker(cli, ['service', 'create', '--name', `bad-replicas${n}`, '--replicas', 'three', 'busybox'])
    expect(r.code).toBe(125)
    expect(r.stderr).toContain('invalid argument "three" for "--replicas" flag')
    expect(await named(`bad-replicas${n}`)).toEqual([])
  })

  it('a CPU limit the cluster refuses comes back as "Error response from daemon" naming the Docker field, exit 1, nothing created', async () => {
    const r = await rig.docker(cli, ['service', 'create', '--detach', '--name', `bad-cpu${n}`, '--limit-cpu', '0.0001', 'busybox'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error response from daemon: .*TaskTemplate\.Resources\.Limits\.NanoCPUs.*\n$/)
    expect(await named(`bad-cpu${n}`)).toEqual([])
  })

  it('an update with a bad value leaves the service as it was', async () => {
    const name = `keep${n}`
    const created = await rig.docker(cli, ['service', 'create', '--detach', '--name', name, '--replicas', '1', 'busybox', 'sleep', '3600'])
    expect(created.code).toBe(0)
    const before = await rig.manager.services.get(name)
    const r = await rig.docker(cli, ['service', 'update', '--detach', '--limit-cpu', '0.0001', name])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error response from daemon: .*TaskTemplate\.Resources\.Limits\.NanoCPUs.*\n$/)
    const after = await rig.manager.services.get(name)
    // (its version may move: the allocator writes the endpoint after a create)
    expect(after.spec).toEqual(before.spec)
    expect(after.previousSpec).toEqual(before.previousSpec)
    const rm = await rig.docker(cli, ['service', 'rm', name])
    expect(rm.code).toBe(0)
  })
})
