/**
 * The CLI end to end, nodes, secrets, configs, networks and swarm commands, against a local
 * cluster of 3 managers and a worker (each a `swarmkit node start` process); also through a
 * follower's control socket (writes forwarded to the leader) and over TCP with a client
 * certificate; errors as one line with exit code 1 (2 for a bad command line).
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManagerKeyStore } from '@swarmkit-ts/pki'
import { E2eCluster, rowsOf, until, type CliResult } from './rig.ts'

interface NodeJson {
  readonly id: string
  readonly role: string
  readonly description: { readonly hostname: string }
  readonly spec: { readonly availability: string; readonly annotations: { readonly labels?: Record<string, string> } }
  readonly managerStatus?: { readonly leader?: boolean; readonly reachability: string }
}

const ONE_LINE = /^swarmkit: \w+: [^\n]+\n$/

describe('swarmkit end to end: nodes, secrets, configs, networks, swarm', { timeout: 240_000 }, () => {
  let cluster: E2eCluster
  const cli = (...argv: string[]): Promise<CliResult> => cluster.cli(argv)
  const id = (name: string): string => cluster.node(name).nodeId

  beforeAll(async () => {
    cluster = await E2eCluster.start()
  }, 240_000)
  afterAll(async () => {
    await cluster?.close()
  }, 120_000)

  /** `MANAGER STATUS` of node `name` in `node ls`. */
  const managerStatus = async (name: string): Promise<string> => (await cli('node', 'ls', '--filter', `id=${id(name)}`, '--format', '{{.ManagerStatus}}')).stdout.trim()

  it('lists nodes with Docker columns, marking the manager the CLI talks to; -q, json and templates', async () => {
    const ls = await cli('node', 'ls')
    expect(ls.stderr).toBe('')
    const rows = rowsOf(ls.stdout)
    expect(rows[0]).toEqual(['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION'])
    expect(rows.slice(1).map((r) => r.slice(0, 4))).toEqual([
      [`${id('m1').slice(0, 12)} *`, 'm1', 'Ready', 'Active'],
      [id('m2').slice(0, 12), 'm2', 'Ready', 'Active'],
      [id('m3').slice(0, 12), 'm3', 'Ready', 'Active'],
      [id('w1').slice(0, 12), 'w1', 'Ready', 'Active'],
    ])
    expect(rows.slice(1, 4).map((r) => r[4]).sort()).toEqual(['Leader', 'Reachable', 'Reachable'])
    expect(rows[4]?.[4]).toBe('')
    expect((await cli('node', 'ls', '-q')).stdout).toBe(['m1', 'm2', 'm3', 'w1'].map((n) => `${id(n)}\n`).join(''))
    const json = JSON.parse((await cli('node', 'ls', '--format', 'json')).stdout) as NodeJson[]
    expect(json.map((n) => [n.id, n.description.hostname, n.role, n.managerStatus?.reachability])).toEqual([
      [id('m1'), 'm1', 'manager', 'reachable'],
      [id('m2'), 'm2', 'manager', 'reachable'],
      [id('m3'), 'm3', 'manager', 'reachable'],
      [id('w1'), 'w1', 'worker', undefined],
    ])
    expect(await cli('node', 'ls', '--filter', 'role=worker', '--format', 'table {{.Hostname}}\\t{{.Self}}')).toEqual({ code: 0, stdout: 'HOSTNAME   SELF\nw1         false\n', stderr: '' })
  })

  it('inspects and updates a node, lists its tasks, promotes and demotes it, and refuses to remove a running node', async () => {
    const inspected = JSON.parse((await cli('node', 'inspect', 'w1')).stdout) as NodeJson[]
    expect(inspected.map((n) => [n.id, n.role])).toEqual([[id('w1'), 'worker']])
    expect(await cli('node', 'update', '--availability', 'pause', '--label-add', 'zone=east', 'w1')).toEqual({ code: 0, stdout: 'w1\n', stderr: '' })
    expect(await cli('node', 'inspect', '--format', '{{.Spec.Availability}} {{json .Spec.Labels}}', 'w1')).toEqual({ code: 0, stdout: 'pause {"zone":"east"}\n', stderr: '' })
    expect(await cli('node', 'update', '--availability', 'active', '--label-rm', 'zone', 'w1')).toEqual({ code: 0, stdout: 'w1\n', stderr: '' })

    expect((await cli('service', 'create', '-d', '--name', 'everywhere', '--mode', 'global', 'busybox:fake', 'sleep', '3600')).code).toBe(0)
    await until(async () => (await cli('service', 'ls', '--format', '{{.Replicas}}')).stdout === '4/4\n', 'a global task on every node')
    const ps = rowsOf((await cli('node', 'ps', 'w1')).stdout)
    expect(ps.slice(1).map((r) => [r[1], r[3], r[4]])).toEqual([[`everywhere.${id('w1')}`, 'w1', 'Running']])
    expect((await cli('service', 'rm', 'everywhere')).code).toBe(0)

    expect(await cli('node', 'promote', 'w1')).toEqual({ code: 0, stdout: 'Node w1 promoted to a manager in the swarm.\n', stderr: '' })
    await until(async () => (await managerStatus('w1')) === 'Reachable', 'w1 a reachable manager')
    expect(await cli('node', 'demote', 'w1')).toEqual({ code: 0, stdout: 'Manager w1 demoted in the swarm.\n', stderr: '' })
    await until(async () => (await managerStatus('w1')) === '', 'w1 a worker again')

    const running = await cli('node', 'rm', 'w1')
    expect(running.code).toBe(1)
    expect(running.stdout).toBe('')
    expect(running.stderr).toMatch(ONE_LINE)
    expect(running.stderr).toMatch(/^swarmkit: FailedPreconditionError: /)
    const manager = await cli('node', 'rm', '--force', 'm3')
    expect(manager.code).toBe(1)
    expect(manager.stderr).toMatch(/^swarmkit: FailedPreconditionError: [^\n]+\n$/)
  })

  it('creates secrets and configs from a file and from stdin, lists, inspects and removes them', async () => {
    const file = join(cluster.dir, 'db-pass.txt')
    await writeFile(file, 'hunter2')
    const fromFile = await cli('secret', 'create', '--label', 'app=db', 'db_pass', file)
    expect(fromFile.code).toBe(0)
    expect(fromFile.stdout).toMatch(/^[0-9a-z]{25}\n$/)
    const fromStdin = await cluster.cli(['secret', 'create', 'api_key', '-'], { stdin: 'k3y' })
    expect(fromStdin.code).toBe(0)
    const ls = rowsOf((await cli('secret', 'ls')).stdout)
    expect(ls[0]).toEqual(['ID', 'NAME', 'DRIVER', 'CREATED', 'UPDATED'])
    expect(ls.slice(1).map((r) => [r[0], r[1], r[2]])).toEqual([
      [fromStdin.stdout.trim().slice(0, 12), 'api_key', ''],
      [fromFile.stdout.trim().slice(0, 12), 'db_pass', ''],
    ])
    for (const r of ls.slice(1)) expect(r[3]).toMatch(/^(Less than a second|1 second|\d+ seconds|About a minute|\d+ minutes) ago$/)
    const inspected = JSON.parse((await cli('secret', 'inspect', 'db_pass')).stdout) as { spec: { annotations: { name: string; labels: Record<string, string> }; data?: string } }[]
    expect(inspected.map((s) => [s.spec.annotations.name, s.spec.annotations.labels, s.spec.data ?? ''])).toEqual([['db_pass', { app: 'db' }, '']])
    expect(await cli('secret', 'ls', '-q', '--filter', 'label=app')).toEqual({ code: 0, stdout: fromFile.stdout, stderr: '' })

    expect((await cluster.cli(['config', 'create', 'site', '-'], { stdin: 'hello' })).code).toBe(0)
    expect((await cli('config', 'create', 'motd', file)).code).toBe(0)
    expect(rowsOf((await cli('config', 'ls')).stdout).map((r) => r[1])).toEqual(['NAME', 'motd', 'site'])
    expect(await cli('config', 'inspect', '--format', '{{.Spec.Name}} {{.Spec.Data}}', 'site', 'motd')).toEqual({ code: 0, stdout: `site ${Buffer.from('hello').toString('base64')}\nmotd ${Buffer.from('hunter2').toString('base64')}\n`, stderr: '' })

    expect(await cli('secret', 'rm', 'db_pass', 'api_key')).toEqual({ code: 0, stdout: 'db_pass\napi_key\n', stderr: '' })
    expect(await cli('config', 'rm', 'site', 'motd')).toEqual({ code: 0, stdout: 'site\nmotd\n', stderr: '' })
    expect(await cli('secret', 'ls', '--format', 'json')).toEqual({ code: 0, stdout: '[]\n', stderr: '' })
    const missing = await cli('secret', 'create', 'x', join(cluster.dir, 'none.txt'))
    expect(missing).toEqual({ code: 2, stdout: '', stderr: `swarmkit: InvalidArgumentError: <file>: cannot read ${join(cluster.dir, 'none.txt')}: ENOENT\n` })
  })

  it('creates, lists, inspects and removes a network', async () => {
    const created = await cli('network', 'create', '--subnet', '10.20.0.0/24', '--attachable', 'backend')
    expect(created.code).toBe(0)
    const netId = created.stdout.trim()
    expect(netId).toMatch(/^[0-9a-z]{25}$/)
    const rows = rowsOf((await cli('network', 'ls', '--filter', 'name=backend')).stdout)
    expect(rows).toEqual([
      ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'],
      [netId.slice(0, 12), 'backend', 'overlay', 'swarm'],
    ])
    const inspected = JSON.parse((await cli('network', 'inspect', 'backend')).stdout) as { id: string; spec: { attachable?: boolean; ipam?: { configs: { subnet: string }[] } } }[]
    expect(inspected.map((n) => [n.id, n.spec.attachable, n.spec.ipam?.configs.map((c) => c.subnet)])).toEqual([[netId, true, ['10.20.0.0/24']]])
    expect(await cli('network', 'rm', 'backend')).toEqual({ code: 0, stdout: 'backend\n', stderr: '' })
    expect((await cli('network', 'ls', '-q', '--filter', 'name=backend')).stdout).toBe('')
  })

  it("prints and rotates join tokens, the root CA, and says there is no unlock key without autolock", async () => {
    const tokens = cluster.node('m1').tokens
    expect(await cli('swarm', 'join-token', '-q', 'worker')).toEqual({ code: 0, stdout: `${tokens?.worker ?? ''}\n`, stderr: '' })
    const shown = await cli('swarm', 'join-token', 'manager')
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(new RegExp(`^To add a manager to this swarm, run the following command:\\n\\n    swarmkit node start join --token ${tokens?.manager ?? ''} --join-addr 127\\.0\\.0\\.1:\\d+ --state-dir <dir>\\n\\n$`))
    const rotated = await cli('swarm', 'join-token', '--rotate', '-q', 'worker')
    expect(rotated.code).toBe(0)
    expect(rotated.stdout).toMatch(/^SWMTKN-1-\S+\n$/)
    expect(rotated.stdout).not.toBe(`${tokens?.worker ?? ''}\n`)
    expect((await cli('swarm', 'join-token', '-q', 'worker')).stdout).toBe(rotated.stdout)
    expect(await cli('swarm', 'ca')).toEqual({ code: 0, stdout: await readFile(join(cluster.stateDir('m1'), 'certificates/swarm-root-ca.crt'), 'utf8'), stderr: '' })
    expect(await cli('swarm', 'unlock-key')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: FailedPreconditionError: no unlock key is set: autolock is off\n' })
  })

  it("answers on a follower's socket (its own node marked, writes forwarded to the leader) and over TCP with a client certificate", async () => {
    const viaM2 = await cluster.cli([...cluster.host('m2'), 'node', 'ls', '--format', '{{.Hostname}} {{.Self}}'])
    expect(viaM2).toEqual({ code: 0, stdout: 'm1 false\nm2 true\nm3 false\nw1 false\n', stderr: '' })
    expect((await cluster.cli([...cluster.host('m2'), 'config', 'create', 'from_m2', '-'], { stdin: 'x' })).code).toBe(0)
    expect((await cluster.cli([...cluster.host('m3'), 'config', 'ls', '--format', '{{.Name}}'])).stdout).toBe('from_m2\n')

    const m3 = cluster.node('m3')
    expect(await cluster.cli(['--host', `tcp://${m3.address}`, '--state-dir', cluster.stateDir('m3'), 'node', 'ls', '--filter', 'role=manager', '--format', '{{.Hostname}} {{.Self}}'])).toEqual({
      code: 0,
      stdout: 'm1 false\nm2 false\nm3 true\n',
      stderr: '',
    })
    const m2Dir = cluster.stateDir('m2')
    const keys = await ManagerKeyStore.open(join(m2Dir, 'manager-keys.json'))
    const keyFile = join(cluster.dir, 'm2-key.pem')
    await writeFile(keyFile, keys.tlsKeyPem)
    const tls = ['--tls-cert', join(m2Dir, 'certificates/swarm-node.crt'), '--tls-key', keyFile, '--tls-ca', join(m2Dir, 'certificates/swarm-root-ca.crt')]
    const overTcp = await cluster.cli(['--host', `tcp://${cluster.node('m1').address}`, ...tls, 'config', 'rm', 'from_m2'])
    expect(overTcp).toEqual({ code: 0, stdout: 'from_m2\n', stderr: '' })
    const noCert = await cluster.cli(['--host', `tcp://${m3.address}`, 'config', 'ls'])
    expect(noCert.code).toBe(2)
    expect(noCert.stderr).toMatch(/^swarmkit: InvalidArgumentError: --tls-cert: [^\n]+\n$/)
  })

  it('fails with one line and exit 1, 2 for a bad command line, the stack only with --debug', async () => {
    const notFound = await cli('node', 'inspect', 'nope')
    expect(notFound.code).toBe(1)
    expect(notFound.stdout).toBe('')
    expect(notFound.stderr).toMatch(/^swarmkit: NotFoundError: [^\n]*nope[^\n]*\n$/)
    const debug = await cli('--debug', 'node', 'inspect', 'nope')
    expect(debug.code).toBe(1)
    expect(debug.stderr.split('\n')[0]).toBe(notFound.stderr.trimEnd())
    expect(debug.stderr).toMatch(/\n\s+at /)
    expect(await cli('node', 'update', '--availability', 'sleepy', 'w1')).toEqual({
      code: 2,
      stdout: '',
      stderr: "swarmkit: UsageError: option '--availability <availability>' argument 'sleepy' is invalid. Allowed choices are active, pause, drain.\n",
    })
    expect(await cli('node', 'frobnicate')).toEqual({ code: 2, stdout: '', stderr: "swarmkit: UsageError: unknown command 'frobnicate'\n" })
    expect(await cli('network', 'ls', '--format', '{{.Name')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: InvalidArgumentError: --format: template: unclosed action at 1\n' })
    const down = await cluster.cli(['--host', `unix://${join(cluster.dir, 'nobody.sock')}`, 'service', 'ls'])
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(/^swarmkit: UnavailableError: [^\n]+\n$/)
  })

  it('removes a worker with --force (last: the cluster goes on with its managers)', async () => {
    expect(await cli('node', 'rm', '--force', 'w1')).toEqual({ code: 0, stdout: 'w1\n', stderr: '' })
    expect((await cli('node', 'ls', '--format', '{{.Hostname}}')).stdout).toBe('m1\nm2\nm3\n')
  })
})
