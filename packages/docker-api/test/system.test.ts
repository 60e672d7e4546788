import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCKER_CLIS, DockerRig } from './rig.ts'

/** The `Key: value` lines of `docker info`'s output, by key (the first occurrence), trimmed. */
function infoLines(out: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const line of out.split('\n')) {
    const i = line.indexOf(':')
    if (i < 0) continue
    const key = line.slice(0, i).trim()
    if (!m.has(key)) m.set(key, line.slice(i + 1).trim())
  }
  return m
}

describe.each(DOCKER_CLIS)('docker version and info ($version) against a manager', (cli) => {
  let rig: DockerRig
  beforeAll(async () => {
    rig = await DockerRig.start({ workers: 1 })
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

  it('docker info prints the engine and the Swarm section without errors or warnings', async () => {
    const m = rig.manager
    const cluster = await m.getCluster()
    const r = await rig.docker(cli, ['info'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const info = infoLines(r.stdout)
    expect(info.get('Server Version')).toBe('20.10.24-swarmkit-ts')
    expect(info.get('Swarm')).toBe('active')
    expect(info.get('NodeID')).toBe(m.nodeId)
    expect(info.get('Is Manager')).toBe('true')
    expect(info.get('ClusterID')).toBe(cluster.id)
    expect(info.get('Managers')).toBe('1')
    expect(info.get('Nodes')).toBe('2')
    expect(info.get('Task History Retention Limit')).toBe('5')
    expect(info.get('Heartbeat Period')).toBe('5 seconds')
    expect(info.get('Expiry Duration')).toBe('3 months')
    expect(info.get('Autolock Managers')).toBe('false')
    expect(info.get('Node Address')).toBe('127.0.0.1')
    expect(r.stdout).toContain(`  Manager Addresses:\n   ${m.address}\n`)
    expect(info.get('ID')).toBe(m.nodeId)
    expect(info.get('OSType')).toBe('linux')
  })

  it('docker info --format reads the Swarm fields a script uses', async () => {
    const r = await rig.docker(cli, ['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.Cluster.ID}} {{len .Swarm.RemoteManagers}}'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(`active true ${(await rig.manager.getCluster()).id} 1`)
  })
})
