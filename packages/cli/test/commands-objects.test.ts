import { describe, expect, it } from 'vitest'
import { CliRig, cliOf, rowsOf, swarmkit } from './commands-rig.ts'

/** Polls `cond` (a guard against hanging, not a timing assertion). */
async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('swarmkit node, secret, config, network, swarm', { timeout: 60_000 }, () => {
  const rig = new CliRig()

  it('lists (marking the node the CLI talks to with *), inspects, updates and removes nodes with Docker columns and messages', async () => {
    const m = await rig.init()
    const w = await rig.join(m, 'worker', 'w1')
    const cli = cliOf(m)
    await until(async () => (await m.nodes.list()).filter((n) => n.status.state === 'ready').length === 2, 'two ready nodes')
    const ls = await cli('node', 'ls')
    expect(ls.stderr).toBe('')
    const engine = async (id: string): Promise<string> => (await m.nodes.get(id)).description?.engine?.engineVersion ?? ''
    // A blank last column leaves no trailing blanks (the split row is one shorter).
    const row = (...cells: string[]): string[] => (cells.at(-1) === '' ? row(...cells.slice(0, -1)) : cells)
    expect(rowsOf(ls.stdout)).toEqual([
      ['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION'],
      row(`${m.nodeId.slice(0, 12)} *`, 'm1', 'Ready', 'Active', 'Leader', await engine(m.nodeId)),
      row(w.nodeId.slice(0, 12), 'w1', 'Ready', 'Active', '', await engine(w.nodeId)),
    ])
    expect((await cli('node', 'ls', '-q')).stdout).toBe(`${m.nodeId}\n${w.nodeId}\n`)

    const updated = await cli('node', 'update', '--availability', 'drain', '--label-add', 'zone=east', '--label-add', 'gpu', 'w1')
    expect(updated).toEqual({ code: 0, stdout: 'w1\n', stderr: '' })
    const node = await m.nodes.get(w.nodeId)
    expect(node.spec.availability).toBe('drain')
    expect(node.spec.annotations.labels).toEqual({ zone: 'east', gpu: '' })
    expect((await cli('node', 'update', '--label-rm', 'gpu', w.nodeId)).code).toBe(0)
    expect((await m.nodes.get(w.nodeId)).spec.annotations.labels).toEqual({ zone: 'east' })

    const inspected = JSON.parse((await cli('node', 'inspect', 'w1', m.nodeId)).stdout) as { id: string; spec: { availability: string } }[]
    expect(inspected.map((n) => [n.id, n.spec.availability])).toEqual([
      [w.nodeId, 'drain'],
      [m.nodeId, 'active'],
    ])
    expect(await cli('node', 'update', '--availability', 'sleepy', 'w1')).toEqual({
      code: 2,
      stdout: '',
      stderr: "swarmkit: UsageError: option '--availability <availability>' argument 'sleepy' is invalid. Allowed choices are active, pause, drain.\n",
    })
    expect(await cli('node', 'promote', 'm1')).toEqual({ code: 0, stdout: 'Node m1 promoted to a manager in the swarm.\n', stderr: '' })
    const demote = await cli('node', 'demote', 'm1')
    expect(demote.code).toBe(1)
    expect(demote.stderr).toMatch(/^swarmkit: FailedPreconditionError: [^\n]+\n$/)
    const busy = await cli('node', 'rm', 'w1')
    expect(busy.code).toBe(1)
    expect(busy.stderr).toMatch(/^swarmkit: FailedPreconditionError: [^\n]+\n$/)
    expect(await cli('node', 'rm', '--force', 'w1')).toEqual({ code: 0, stdout: 'w1\n', stderr: '' })
    expect((await m.nodes.list()).map((n) => n.id)).toEqual([m.nodeId])
  })

  it('creates secrets and configs from a file or stdin, lists, inspects (secrets without data) and removes them', async () => {
    const m = await rig.init()
    const host = ['--host', `unix://${m.controlSocketPath}`]
    const dir = await rig.dir()
    const { writeFile } = await import('node:fs/promises')
    await writeFile(`${dir}/app.conf`, 'port=80\n')
    const secret = await swarmkit([...host, 'secret', 'create', '--label', 'env=prod', 'db-password', '-'], { stdin: 's3cret' })
    expect(secret.stderr).toBe('')
    const s = await m.secrets.get('db-password')
    expect(secret.stdout).toBe(`${s.id}\n`)
    expect(s.spec.annotations.labels).toEqual({ env: 'prod' })
    const config = await swarmkit([...host, 'config', 'create', 'app', `${dir}/app.conf`])
    const c = await m.configs.get('app')
    expect(config).toEqual({ code: 0, stdout: `${c.id}\n`, stderr: '' })
    expect(Buffer.from(c.spec.data).toString()).toBe('port=80\n')

    const cli = cliOf(m)
    const secrets = rowsOf((await cli('secret', 'ls')).stdout)
    expect(secrets[0]).toEqual(['ID', 'NAME', 'DRIVER', 'CREATED', 'UPDATED'])
    expect(secrets.slice(1).map((r) => r.slice(0, 2))).toEqual([[s.id.slice(0, 12), 'db-password']])
    expect(secrets[1]?.at(-1)).toMatch(/ ago$/)
    expect(rowsOf((await cli('config', 'ls')).stdout).map((r) => r.slice(0, 2))).toEqual([
      ['ID', 'NAME'],
      [c.id.slice(0, 12), 'app'],
    ])
    const inspectedSecret = JSON.parse((await cli('secret', 'inspect', 'db-password')).stdout) as { id: string; spec: { data: string } }[]
    expect(inspectedSecret.map((x) => [x.id, x.spec.data])).toEqual([[s.id, '']])
    const inspectedConfig = JSON.parse((await cli('config', 'inspect', 'app')).stdout) as { spec: { data: string } }[]
    expect(inspectedConfig.map((x) => Buffer.from(x.spec.data, 'base64').toString())).toEqual(['port=80\n'])
    expect(await cli('config', 'create', 'other', `${dir}/missing.conf`)).toEqual({ code: 2, stdout: '', stderr: `swarmkit: InvalidArgumentError: <file>: cannot read ${dir}/missing.conf: ENOENT\n` })

    expect(await cli('secret', 'rm', 'db-password', 'nope')).toEqual({ code: 1, stdout: 'db-password\n', stderr: 'swarmkit: NotFoundError: secret nope not found\n' })
    expect(await cli('config', 'rm', 'app')).toEqual({ code: 0, stdout: 'app\n', stderr: '' })
    expect(await m.secrets.list()).toEqual([])
    expect(await m.configs.list()).toEqual([])
  })

  it('creates, lists, inspects and removes networks', async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    const created = await cli('network', 'create', '--subnet', '10.20.0.0/24', '--gateway', '10.20.0.1', '--attachable', '--label', 'team=a', 'backend')
    expect(created.stderr).toBe('')
    const n = await m.networks.get('backend')
    expect(created.stdout).toBe(`${n.id}\n`)
    expect(n.spec).toMatchObject({ annotations: { name: 'backend', labels: { team: 'a' } }, driverConfig: { name: 'overlay' }, attachable: true, ipam: { configs: [{ subnet: '10.20.0.0/24', gateway: '10.20.0.1' }] } })
    const rows = rowsOf((await cli('network', 'ls')).stdout)
    expect(rows[0]).toEqual(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'])
    expect(rows).toContainEqual([n.id.slice(0, 12), 'backend', 'overlay', 'swarm'])
    const json = JSON.parse((await cli('network', 'ls', '--format', 'json')).stdout) as { id: string }[]
    expect(json.map((x) => x.id)).toEqual((await m.networks.list()).map((x) => x.id))
    expect(await cli('network', 'create', '--gateway', '10.0.0.1', 'x')).toEqual({ code: 2, stdout: '', stderr: 'swarmkit: InvalidArgumentError: --gateway: each --gateway needs a --subnet\n' })
    expect(await cli('network', 'rm', 'backend')).toEqual({ code: 0, stdout: 'backend\n', stderr: '' })
    expect((await cli('network', 'inspect', 'backend')).stderr).toBe('swarmkit: NotFoundError: network backend not found\n')
  })

  it('prints and rotates join tokens, and refuses an unlock key when autolock is off', async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    const tokens = await m.joinTokens()
    expect(await cli('swarm', 'join-token', '-q', 'worker')).toEqual({ code: 0, stdout: `${tokens.worker}\n`, stderr: '' })
    expect((await cli('swarm', 'join-token', 'manager')).stdout).toBe(
      `To add a manager to this swarm, run the following command:\n\n    swarmkit node start join --token ${tokens.manager} --join-addr ${m.address} --state-dir <dir>\n\n`,
    )
    const rotated = await cli('swarm', 'join-token', '--rotate', 'worker')
    const after = await m.joinTokens()
    expect(after.worker).not.toBe(tokens.worker)
    expect(after.manager).toBe(tokens.manager)
    expect(rotated.stdout.split('\n')[0]).toBe('Successfully rotated worker join token.')
    expect(rotated.stdout).toContain(`--token ${after.worker} `)
    expect(await cli('swarm', 'join-token', 'admin')).toEqual({ code: 2, stdout: '', stderr: 'swarmkit: InvalidArgumentError: <role>: must be one of worker, manager, got "admin"\n' })
    expect(await cli('swarm', 'unlock-key')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: FailedPreconditionError: no unlock key is set: autolock is off\n' })
    const ca = await cli('swarm', 'ca')
    expect(ca.stdout).toBe(Buffer.from((await m.getCluster()).rootCa.caCert).toString())
    expect(ca.stdout.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true)
  })

  it('rotates the root CA and waits until it is done, printing the new root', async () => {
    const m = await rig.init()
    const before = Buffer.from((await m.getCluster()).rootCa.caCert).toString()
    const rotated = await cliOf(m)('swarm', 'ca', '--rotate')
    expect(rotated.stderr).toBe('')
    const after = await m.getCluster()
    expect(after.rootCa.rootRotation).toBe(undefined)
    const pem = Buffer.from(after.rootCa.caCert).toString()
    expect(pem).not.toBe(before)
    expect(rotated.stdout).toBe(`rotating the root CA: waiting for every node to renew its certificate...\n${pem}`)
  })

  it('prints the unlock key of an autolocked cluster', async () => {
    const m = await rig.init({ autolock: true })
    const key = await m.unlockKey()
    expect(key).toMatch(/^SWMKEY-1-/)
    expect(await cliOf(m)('swarm', 'unlock-key', '-q')).toEqual({ code: 0, stdout: `${key}\n`, stderr: '' })
  })
})
