import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CLIS, DockerRig } from './rig.ts'

describe.each(DOCKER_CLIS)('docker version ($version) against a manager', (cli) => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start()
  }, 120_000)
  afterAll(async () => {
    await rig?.close()
  })

  it('prints the server API version 1.41, negotiated down by a newer client', async () => {
    const r = await rig.docker(cli, ['version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('1.41 1.41')
  })
})
