/**
 * Task spec → runtime spec (pure), as Docker's swarm executor maps it.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { InvalidArgumentError, NotFoundError, type ContainerSpec } from '@swarmkit-ts/api'
import { DOCKER_CAPABILITIES, FAKE_RUNTIME_CAPABILITIES } from '@swarmkit-ts/engine-adapter'
import { genericResourceEnv, taskLabels, taskName, taskRuntimeSpec } from '../src/exec/index.ts'
import { makeConfig, makeDeps, makeSecret, makeTask } from './helpers/exec-fixtures.ts'

const caps = FAKE_RUNTIME_CAPABILITIES

function fieldOf(f: () => unknown): string {
  try {
    f()
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.field
    throw err
  }
  throw new Error('did not throw')
}

describe('taskRuntimeSpec', () => {
  it('maps image, command, args, env, dir, name and Docker\'s labels', () => {
    const task = makeTask({ command: ['httpd'], args: ['-f', '-p', '80'], env: ['A=1', 'B=x=y', 'A=2'], dir: '/srv', labels: { team: 'a', 'com.docker.swarm.task.id': 'spoof' } }, { annotations: { name: '', labels: { tier: 'front' } } })
    expect(taskRuntimeSpec(task, makeDeps(), caps)).toEqual({
      image: 'busybox:fake',
      name: 'web.1.task1',
      command: ['httpd'],
      args: ['-f', '-p', '80'],
      env: { A: '2', B: 'x=y' },
      workingDir: '/srv',
      labels: {
        team: 'a',
        tier: 'front',
        'com.docker.swarm.task': '',
        'com.docker.swarm.task.id': 'task1',
        'com.docker.swarm.task.name': 'web.1.task1',
        'com.docker.swarm.node.id': 'node1',
        'com.docker.swarm.service.id': 'svc1',
        'com.docker.swarm.service.name': 'web',
      },
    })
  })

  it('names a global task by its node, and prefers the task\'s annotation name', () => {
    expect(taskName(makeTask({}, { slot: 0 }))).toBe('web.node1.task1')
    expect(taskName(makeTask({}, { annotations: { name: 'custom' } }))).toBe('custom')
  })

  it('delivers secrets under /run/secrets and configs under / by default, absolute targets as given, with modes and owners', () => {
    const task = makeTask({
      secrets: [
        { secretId: 's1', secretName: 'db', file: { name: 'db-password', mode: 0o400, uid: '1000', gid: '50' } },
        { secretId: 's2', secretName: 'tls', file: { name: '/etc/tls/key.pem' } },
      ],
      configs: [{ configId: 'c1', configName: 'nginx', file: { name: 'nginx.conf', mode: 0o644 } }],
    })
    const deps = makeDeps([makeSecret('s1', 'db', 'hunter2'), makeSecret('s2', 'tls', 'KEY')], [makeConfig('c1', 'nginx', 'worker_processes 1;')])
    const enc = (s: string) => new TextEncoder().encode(s)
    expect(taskRuntimeSpec(task, deps, caps).files).toEqual([
      { target: '/run/secrets/db-password', data: enc('hunter2'), mode: 0o400, uid: 1000, gid: 50 },
      { target: '/etc/tls/key.pem', data: enc('KEY'), mode: 0o444 },
      { target: '/nginx.conf', data: enc('worker_processes 1;'), mode: 0o644 },
    ])
  })

  it('rejects a missing secret or config with NotFoundError and a non-numeric owner naming the field', () => {
    const secretTask = makeTask({ secrets: [{ secretId: 's9', secretName: 'x', file: { name: 'x' } }] })
    expect(() => taskRuntimeSpec(secretTask, makeDeps(), caps)).toThrow(NotFoundError)
    const configTask = makeTask({ configs: [{ configId: 'c9', configName: 'x', file: { name: 'x' } }] })
    expect(() => taskRuntimeSpec(configTask, makeDeps(), caps)).toThrow(NotFoundError)
    const owner = makeTask({ secrets: [{ secretId: 's1', secretName: 'db', file: { name: 'db', uid: 'root' } }] })
    expect(fieldOf(() => taskRuntimeSpec(owner, makeDeps([makeSecret('s1', 'db', 'x')]), caps))).toBe('spec.container.secrets[0].file.uid')
  })

  it('maps limits when the runtime enforces them and rejects them naming the field otherwise', () => {
    const task = makeTask({}, { spec: { resources: { limits: { memoryBytes: 64 << 20, nanoCpus: 500_000_000 }, reservations: { memoryBytes: 1 } } } })
    expect(taskRuntimeSpec(task, makeDeps(), DOCKER_CAPABILITIES).resources).toEqual({ memoryBytes: 64 << 20, nanoCpus: 500_000_000 })
    expect(fieldOf(() => taskRuntimeSpec(task, makeDeps(), caps))).toBe('spec.resources.limits.memoryBytes')
  })

  it('maps a healthcheck, treats NONE as none and 0 durations as defaults', () => {
    const task = makeTask({ healthcheck: { test: ['CMD', 'true'], intervalMs: 0, timeoutMs: 2_000, retries: 4, startPeriodMs: 0 } })
    expect(taskRuntimeSpec(task, makeDeps(), caps).healthcheck).toEqual({ test: ['CMD', 'true'], timeoutMs: 2_000, retries: 4 })
    expect(taskRuntimeSpec(makeTask({ healthcheck: { test: ['NONE'] } }), makeDeps(), caps).healthcheck).toBeUndefined()
    const noHealth = { ...caps, healthcheck: false }
    expect(fieldOf(() => taskRuntimeSpec(task, makeDeps(), noHealth))).toBe('spec.container.healthcheck')
  })

  it('sets DOCKER_RESOURCE_<KIND> for assigned generic resources, values of a kind joined by commas', () => {
    const task = makeTask({ env: ['X=1'] }, { assignedGenericResources: [{ kind: 'gpu', namedValue: 'GPU-0' }, { kind: 'ssd', discreteValue: 2 }, { kind: 'gpu', namedValue: 'GPU-3' }] })
    expect(taskRuntimeSpec(task, makeDeps(), caps).env).toEqual({ X: '1', DOCKER_RESOURCE_GPU: 'GPU-0,GPU-3', DOCKER_RESOURCE_SSD: '2' })
  })

  it.each<[Partial<ContainerSpec>, string]>([
    [{ user: 'nobody' }, 'spec.container.user'],
    [{ hostname: 'h' }, 'spec.container.hostname'],
    [{ mounts: [{ type: 'bind', source: '/a', target: '/b' }] }, 'spec.container.mounts'],
    [{ tty: true }, 'spec.container.tty'],
    [{ privileges: { noNewPrivileges: true } }, 'spec.container.privileges'],
    [{ sysctls: { 'net.core.somaxconn': '1024' } }, 'spec.container.sysctls'],
    [{ stopSignal: 'SIGINT' }, 'spec.container.stopSignal'],
    [{ isolation: 'hyperv' }, 'spec.container.isolation'],
    [{ env: ['NOVALUE'] }, 'spec.container.env[0]'],
    [{ healthcheck: { test: ['CMD', 'true'], startIntervalMs: 5 } }, 'spec.container.healthcheck.startIntervalMs'],
  ])('rejects %o naming %s', (container, field) => {
    expect(fieldOf(() => taskRuntimeSpec(makeTask(container), makeDeps(), caps))).toBe(field)
  })

  it('accepts unsupported fields left at their defaults', () => {
    const task = makeTask({ user: '', tty: false, mounts: [], stopSignal: 'SIGTERM', isolation: 'default', privileges: {}, oomScoreAdj: 0 })
    expect(taskRuntimeSpec(task, makeDeps(), caps).image).toBe('busybox:fake')
  })

  it('rejects a task without a container', () => {
    expect(fieldOf(() => taskRuntimeSpec(makeTask({}, { spec: { container: undefined, generic: { kind: 'x' } } } as never), makeDeps(), caps))).toBe('spec.container')
  })

  it('system labels always win over the user\'s and the task\'s (property)', () => {
    const key = fc.constantFrom('com.docker.swarm.task', 'com.docker.swarm.task.id', 'com.docker.swarm.node.id', 'com.docker.swarm.service.name', 'app', 'tier')
    fc.assert(
      fc.property(fc.dictionary(key, fc.string()), fc.dictionary(key, fc.string()), (user, annotations) => {
        const labels = taskLabels(makeTask({ labels: user }, { annotations: { name: '', labels: annotations } }))
        expect(labels['com.docker.swarm.task.id']).toBe('task1')
        expect(labels['com.docker.swarm.node.id']).toBe('node1')
        expect(labels['com.docker.swarm.task']).toBe('')
        for (const k of ['app', 'tier']) expect(labels[k]).toBe(annotations[k] ?? user[k])
      }),
    )
  })

  it('env is every KEY=VALUE entry\'s last value (property)', () => {
    const entry = fc.tuple(fc.constantFrom('A', 'B', 'PATH', 'X_1'), fc.string({ unit: fc.constantFrom('a', '=', ' ', 'é') }))
    fc.assert(
      fc.property(fc.array(entry), (entries) => {
        const env = taskRuntimeSpec(makeTask({ env: entries.map(([k, v]) => `${k}=${v}`) }), makeDeps(), caps).env ?? {}
        expect(env).toEqual(Object.fromEntries(entries))
      }),
    )
  })

  it('genericResourceEnv upper-cases the kind', () => {
    expect(genericResourceEnv([{ kind: 'fpga.x', discreteValue: 1 }])).toEqual({ 'DOCKER_RESOURCE_FPGA.X': '1' })
  })
})
