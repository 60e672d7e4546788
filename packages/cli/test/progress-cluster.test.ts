/**
 * showProgress against a real manager (in process, fake runtime) through its control socket: the
 * lines a create prints when the output is not a terminal and the screen it leaves on one, an
 * update whose new tasks fail and roll back, a manual rollback, a pause, quiet, the signal.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FailedPreconditionError, NotFoundError, NotLeaderError, TaskState, UnavailableError } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { Cluster, connectControlSocket } from '@swarmkit-ts/core'
import type { ControlClient, ManagerCluster } from '@swarmkit-ts/core'
import { afterEach, describe, expect, it } from 'vitest'
import type { CommandContext } from '../src/context.ts'
import { showProgress, stateName } from '../src/progress/index.ts'
import { FULL, VirtualTerminal } from './progress-fixtures.ts'

const FAST_RAFT = { tickMs: 50, electionTick: 20, heartbeatTick: 1 } as const

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/**
 * A one-manager cluster on the fake runtime and a control client on its socket. The heartbeat
 * period is the default (5 s; a node is down after 15 s without one): with 1 s, a CI machine
 * that stalls the node's event loop for 3 s marks it down, and its tasks are replaced mid-test.
 */
async function manager(): Promise<{ node: ManagerCluster; client: ControlClient }> {
  const dir = await mkdtemp(join(tmpdir(), 'cp-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const node = await Cluster.init({ stateDir: join(dir, 's'), listenAddr: '127.0.0.1:0', runtime: 'fake', raft: FAST_RAFT })
  cleanups.push(() => node.close())
  const client = connectControlSocket(node.controlSocketPath)
  cleanups.push(() => client.close())
  return { node, client }
}

/** A context whose stdout is a buffer (not a terminal); `onWrite` sees the output so far. */
function context(
  client: ControlClient,
  options: { readonly quiet?: boolean; readonly tty?: boolean; readonly signal?: AbortSignal; readonly onWrite?: (out: string) => void } = {},
): { ctx: CommandContext; lines: () => string[]; raw: () => string } {
  let out = ''
  const ctx: CommandContext = {
    io: {
      stdout: {
        write: (t: string) => {
          out += t
          options.onWrite?.(out)
          return true
        },
        isTTY: options.tty ?? false,
      },
      stderr: { write: () => true },
    },
    control: () => Promise.resolve(client),
    format: 'table',
    quiet: options.quiet ?? false,
    debug: false,
    signal: options.signal ?? AbortSignal.timeout(90_000),
  }
  return { ctx, lines: () => out.split('\n').slice(0, -1), raw: () => out }
}

/** The error a promise rejects with (undefined when it resolves). */
const caught = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  )

function spec(replicas: number, command: string[], extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    annotations: { name: 'web' },
    mode: { replicated: { replicas } },
    task: { container: { image: 'busybox:fake', command } },
    update: { monitorMs: 300, failureAction: 'rollback' },
    ...extra,
  }
}

/** Docker's names of the states up to running, in order. */
const ORDER = [TaskState.NEW, TaskState.PENDING, TaskState.ASSIGNED, TaskState.ACCEPTED, TaskState.PREPARING, TaskState.READY, TaskState.STARTING, TaskState.RUNNING].map(stateName)

describe('showProgress on a cluster, plain output', () => {
  it('follows a create of 3 replicas to convergence', async () => {
    const { client } = await manager()
    const svc = await client.services.create(spec(3, ['sleep', '100000']))
    const { ctx, lines } = context(client)
    await expect(showProgress(ctx, svc.id, { kind: 'create' })).resolves.toEqual({ kind: 'converged' })
    const out = lines()
    expect(out[0]).toBe('overall progress: 0 out of 3 tasks')
    expect(out.slice(-3)).toEqual([
      'overall progress: 3 out of 3 tasks',
      'verify: Waiting 1 seconds to verify that tasks are stable...',
      `verify: Service ${svc.id} converged`,
    ])
    for (const slot of ['1/3', '2/3', '3/3']) {
      const states = out.filter((l) => l.startsWith(`${slot}: `)).map((l) => l.slice(slot.length + 2))
      // Each slot moves forward through Docker's states (the display may skip some) and ends running.
      const shown = out.join('\n')
      expect(states.at(-1), shown).toBe('running')
      expect(states.map((s) => ORDER.indexOf(s)), shown).toEqual([...states.map((s) => ORDER.indexOf(s))].sort((a, b) => a - b))
      expect(states.every((s) => ORDER.includes(s)), shown).toBe(true)
    }
    const overall = out.filter((l) => l.startsWith('overall progress: ')).map((l) => Number(/: (\d) out of 3/.exec(l)?.[1]))
    expect(overall).toEqual([...overall].sort())
  }, 90_000)

  it('draws a create in place on a terminal: the final screen', async () => {
    const { client } = await manager()
    const svc = await client.services.create(spec(2, ['sleep', '100000']))
    const { ctx, raw } = context(client, { tty: true })
    await expect(showProgress(ctx, svc.id, { kind: 'create' })).resolves.toEqual({ kind: 'converged' })
    const term = new VirtualTerminal()
    term.write(raw())
    expect(term.screen()).toEqual(['overall progress: 2 out of 2 tasks', `1/2: running   ${FULL}`, `2/2: running   ${FULL}`, `verify: Service ${svc.id} converged`])
  }, 90_000)

  it('reports an update whose tasks fail and roll back, and fails with reason rolled-back', async () => {
    const { node, client } = await manager()
    const svc = await client.services.create(spec(2, ['sleep', '100000']))
    await node.services.waitConverged(svc.id, { signal: AbortSignal.timeout(60_000) })
    const current = await client.services.get(svc.id)
    await client.services.update(svc.id, spec(2, ['no-such-program']), { version: current.meta.version.index })
    const { ctx, lines } = context(client)
    const err = await caught(showProgress(ctx, 'web', { kind: 'update' }))
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect((err as FailedPreconditionError).reason).toBe('rolled-back')
    const out = lines()
    const rollback = out.filter((l) => l.startsWith('rollback: '))
    expect(rollback[0]).toMatch(/^rollback: update rolled back due to failure or early termination of task [0-9a-z]{25}$/)
    expect((err as Error).message).toBe(`service ${svc.id} ${rollback[0]?.replace('rollback: ', 'rolled back: ')}`)
    expect(out).toContain('overall progress: rolling back update: 2 out of 2 tasks')
    expect(out.filter((l) => l.startsWith('verify: Service'))).toEqual([`verify: Service ${svc.id} converged`])
    expect((await client.services.get(svc.id)).spec.task.container?.command).toEqual(['sleep', '100000'])
  }, 90_000)
})

describe('showProgress on a cluster: rollback, pause, scale, Ctrl-C', () => {
  it('follows a manual rollback to convergence (not a failure)', async () => {
    const { node, client } = await manager()
    const svc = await client.services.create(spec(2, ['sleep', '100000']))
    await node.services.waitConverged(svc.id, { signal: AbortSignal.timeout(60_000) })
    const v1 = await client.services.get(svc.id)
    await client.services.update(svc.id, spec(2, ['sleep', '200000']), { version: v1.meta.version.index })
    await expect(showProgress(context(client).ctx, svc.id, { kind: 'update' })).resolves.toEqual({ kind: 'converged' })
    await client.services.rollback(svc.id)
    const { ctx, lines } = context(client)
    await expect(showProgress(ctx, svc.id, { kind: 'rollback' })).resolves.toEqual({ kind: 'converged' })
    const out = lines()
    expect(out[0]).toBe('rollback: manually requested rollback')
    expect(out).toContain('overall progress: rolling back update: 2 out of 2 tasks')
    expect(out.filter((l) => l.startsWith('verify: Service'))).toEqual([`verify: Service ${svc.id} converged`])
    expect((await client.services.get(svc.id)).spec.task.container?.command).toEqual(['sleep', '100000'])
  }, 90_000)

  it('fails with reason update-paused when the update pauses', async () => {
    const { node, client } = await manager()
    const svc = await client.services.create(spec(1, ['sleep', '100000']))
    await node.services.waitConverged(svc.id, { signal: AbortSignal.timeout(60_000) })
    const v1 = await client.services.get(svc.id)
    await client.services.update(svc.id, spec(1, ['no-such-program'], { update: { monitorMs: 300, failureAction: 'pause' } }), { version: v1.meta.version.index })
    const err = await caught(showProgress(context(client).ctx, svc.id, { kind: 'update' }))
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect((err as FailedPreconditionError).reason).toBe('update-paused')
    expect((err as Error).message).toMatch(/^service update paused: update paused due to failure or early termination of task [0-9a-z]{25}$/)
  }, 90_000)

  it('waits without output when quiet (a scale)', async () => {
    const { node, client } = await manager()
    const svc = await client.services.create(spec(1, ['sleep', '100000']))
    await node.services.waitConverged(svc.id, { signal: AbortSignal.timeout(60_000) })
    await client.services.scale(svc.id, 3)
    const { ctx, lines } = context(client, { quiet: true })
    await expect(showProgress(ctx, svc.id, { kind: 'scale' })).resolves.toEqual({ kind: 'converged' })
    expect(lines()).toEqual([])
    const tasks = await client.tasks.list({ serviceIds: [svc.id], desiredStates: [TaskState.RUNNING] })
    expect(tasks.filter((t) => t.status.state === TaskState.RUNNING).length).toBe(3)
  }, 90_000)

  it('stops on the signal and says the operation continues in the background', async () => {
    const { client } = await manager()
    const svc = await client.services.create(spec(2, ['no-such-program']))
    const ac = new AbortController()
    const { ctx, lines } = context(client, { signal: ac.signal, onWrite: (out) => out.includes('overall progress') && ac.abort() })
    await expect(showProgress(ctx, svc.id, { kind: 'create' })).resolves.toEqual({ kind: 'interrupted' })
    const out = lines()
    // The first frame is written whole (its slots may already be pending); nothing after the abort.
    expect(out[0]).toBe('overall progress: 0 out of 2 tasks')
    expect(out.slice(-2)).toEqual(['Operation continuing in background.', `Use \`swarmkit service ps ${svc.id}\` to check progress.`])
    expect(out.slice(1, -2).every((l) => /^[12]\/2: [a-z]+$/.test(l))).toBe(true)
  }, 90_000)

  it('rejects with NotFoundError for an unknown service', async () => {
    const { client } = await manager()
    await expect(showProgress(context(client).ctx, 'nope', { kind: 'update' })).rejects.toBeInstanceOf(NotFoundError)
  }, 90_000)

  it('draws a global service per node', async () => {
    const { node, client } = await manager()
    const svc = await client.services.create({ ...spec(1, ['sleep', '100000']), mode: { global: {} } })
    const { ctx, lines } = context(client)
    await expect(showProgress(ctx, svc.id, { kind: 'create' })).resolves.toEqual({ kind: 'converged' })
    const out = lines()
    expect(out.filter((l) => l.startsWith(`${node.nodeId.slice(0, 12)}: `)).at(-1)).toBe(`${node.nodeId.slice(0, 12)}: running`)
    expect(out.slice(-3)).toEqual([
      'overall progress: 1 out of 1 tasks',
      'verify: Waiting 1 seconds to verify that tasks are stable...',
      `verify: Service ${svc.id} converged`,
    ])
  }, 90_000)

  it('rejects with UnavailableError when the manager stays away for retryMs', async () => {
    const { node, client } = await manager()
    const svc = await client.services.create(spec(1, ['no-such-program']))
    let closing: Promise<void> | undefined
    const { ctx } = context(client, { onWrite: () => void (closing ??= node.close()) })
    await expect(showProgress(ctx, svc.id, { kind: 'create', retryMs: 500 })).rejects.toBeInstanceOf(UnavailableError)
    await closing
  }, 90_000)

  it('reads and watches again when the manager is briefly unavailable', async () => {
    const { client } = await manager()
    const svc = await client.services.create(spec(2, ['sleep', '100000']))
    let listFailures = 2
    let watchFailures = 1
    // The real client, but its first task lists and its first watch fail as during an election.
    const flaky = Object.assign(Object.create(client) as ControlClient, {
      tasks: {
        get: (id: string) => client.tasks.get(id),
        list: (f?: Parameters<ControlClient['tasks']['list']>[0]) =>
          listFailures-- > 0 ? Promise.reject(new UnavailableError('no leader')) : client.tasks.list(f),
      },
      watch: (...args: Parameters<ControlClient['watch']>) =>
        watchFailures-- > 0
          ? {
              [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new NotLeaderError({ message: 'not the leader' })) }),
            }
          : client.watch(...args),
    })
    const { ctx, lines } = context(flaky)
    await expect(showProgress(ctx, svc.id, { kind: 'create' })).resolves.toEqual({ kind: 'converged' })
    expect([listFailures < 0, watchFailures < 0]).toEqual([true, true])
    expect(lines().at(-1)).toBe(`verify: Service ${svc.id} converged`)
  }, 90_000)
})
