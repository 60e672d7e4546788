import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ManagerKeyStore } from '@swarmkit-ts/pki'
import { chooseHost, parseHost } from '../src/connect.ts'
import { CliRig, swarmkit } from './commands-rig.ts'

describe('--host', () => {
  it('parses unix:// and tcp:// hosts and refuses anything else naming --host', () => {
    expect(parseHost('unix:///run/m1/control.sock')).toEqual({ kind: 'unix', path: '/run/m1/control.sock' })
    expect(parseHost('unix://./control.sock')).toEqual({ kind: 'unix', path: './control.sock' })
    expect(parseHost('tcp://10.0.0.1:4242')).toEqual({ kind: 'tcp', address: '10.0.0.1:4242' })
    expect(parseHost('tcp://[::1]:4242')).toEqual({ kind: 'tcp', address: '[::1]:4242' })
    for (const bad of ['unix://', 'tcp://host', 'tcp://h:70000', 'http://h:1', '/run/control.sock']) expect(() => parseHost(bad)).toThrow(/^--host: /)
  })

  it('is chosen from --host, then $SWARMKIT_HOST, then --state-dir, then ./control.sock', () => {
    expect(chooseHost({ host: 'tcp://h:1', stateDir: '/s' }, { SWARMKIT_HOST: 'unix:///e.sock' })).toEqual({ kind: 'tcp', address: 'h:1' })
    expect(chooseHost({ stateDir: '/s' }, { SWARMKIT_HOST: 'unix:///e.sock' })).toEqual({ kind: 'unix', path: '/e.sock' })
    expect(chooseHost({ stateDir: '/s' }, { SWARMKIT_HOST: '' })).toEqual({ kind: 'unix', path: '/s/control.sock' })
    expect(chooseHost({}, {})).toEqual({ kind: 'unix', path: 'control.sock' })
  })
})

describe('connecting to a manager', { timeout: 60_000 }, () => {
  const rig = new CliRig()

  it('reaches a manager by $SWARMKIT_HOST, by --state-dir, and over tcp:// with its certificate (state dir or PEM files)', async () => {
    const stateDir = join(await rig.dir(), 's')
    const m = await rig.init({ stateDir })
    const header = 'ID   NAME   MODE   REPLICAS   IMAGE   PORTS\n'
    expect(await swarmkit(['service', 'ls'], { env: { SWARMKIT_HOST: `unix://${m.controlSocketPath}` } })).toEqual({ code: 0, stdout: header, stderr: '' })
    expect(await swarmkit(['--state-dir', stateDir, 'service', 'ls'])).toEqual({ code: 0, stdout: header, stderr: '' })
    expect(await swarmkit(['--host', `tcp://${m.address}`, '--state-dir', stateDir, 'service', 'ls'])).toEqual({ code: 0, stdout: header, stderr: '' })

    const dir = await rig.dir()
    const keys = await ManagerKeyStore.open(join(stateDir, 'manager-keys.json'))
    await writeFile(join(dir, 'key.pem'), keys.tlsKeyPem)
    const tls = ['--tls-cert', join(stateDir, 'certificates/swarm-node.crt'), '--tls-key', join(dir, 'key.pem'), '--tls-ca', join(stateDir, 'certificates/swarm-root-ca.crt')]
    expect(await swarmkit(['--host', `tcp://${m.address}`, ...tls, 'service', 'ls'])).toEqual({ code: 0, stdout: header, stderr: '' })

    expect(await swarmkit(['--host', `tcp://${m.address}`, 'service', 'ls'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'swarmkit: InvalidArgumentError: --tls-cert: a tcp:// host needs a manager client certificate: --tls-cert, --tls-key and --tls-ca, or --state-dir of a manager\n',
    })
    expect(await swarmkit(['--host', `tcp://${m.address}`, '--tls-cert', join(dir, 'none.pem'), '--tls-key', join(dir, 'key.pem'), '--tls-ca', join(dir, 'key.pem'), 'service', 'ls'])).toEqual({
      code: 2,
      stdout: '',
      stderr: `swarmkit: InvalidArgumentError: --tls-cert: cannot read ${join(dir, 'none.pem')}: ENOENT\n`,
    })
    expect(await swarmkit(['--host', `tcp://${m.address}`, '--state-dir', dir, 'service', 'ls'])).toEqual({
      code: 2,
      stdout: '',
      stderr: `swarmkit: InvalidArgumentError: --state-dir: ${dir} holds no manager keys: give the state directory of a manager\n`,
    })
  })
})
