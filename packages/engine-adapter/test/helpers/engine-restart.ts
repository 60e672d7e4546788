/**
 * The engine-restart scenarios shared by the Docker and containerd restart test files: the engine's
 * daemon goes down and comes back while containers run (their processes live on under the shims).
 * The runtime must report only real exits and must never leave a process behind on `remove({ force })`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import type { ContainerRuntime, RuntimeEvent } from '../../src/runtime.ts'

/** What the scenarios need. */
export interface RestartTarget {
  readonly runtime: ContainerRuntime
  readonly image: string
  /** Stops the daemon only (shims and containers keep running). */
  readonly stopDaemon: () => Promise<void>
  /** Starts the daemon again; resolves once it answers. */
  readonly startDaemon: () => Promise<void>
  /** Resolves once the runtime has followed its running containers again after the daemon came back. */
  readonly reattached: (before: number) => Promise<void>
  /** A counter that {@link RestartTarget.reattached} waits to grow. */
  readonly reattachCount: () => number
}

/** Host pids of the processes in a container's cgroup (its path names the container id). */
export function pidsOf(id: string): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/cgroup`, 'utf8').includes(id)) out.push(Number(name))
    } catch {
      // Gone while we looked.
    }
  }
  return out.sort((a, b) => a - b)
}

/** The host pid of the container's first process (pid 1 in its pid namespace). */
function initPid(pids: readonly number[]): number {
  for (const pid of pids) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/)
    if (ns !== undefined && ns[ns.length - 1] === '1') return pid
  }
  throw new Error(`no init among ${pids.join(', ')}`)
}

/** Polls until `predicate` holds (for facts no event announces: process table entries). */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const LOOP = "trap 'echo bye; exit 7' TERM; echo ready; while true; do sleep 0.1; done"

/** Registers the scenarios (inside a describe whose beforeAll makes the target). */
export function engineRestartTests(target: () => RestartTarget, timeout = 120_000): void {
  const runReady = async (script: string, labels: Record<string, string>): Promise<string> => {
    const { runtime, image } = target()
    const id = await runtime.create({ image, command: ['sh', '-c', script], labels })
    await runtime.start(id)
    const ac = new AbortController()
    for await (const l of runtime.logs(id, { follow: true, signal: ac.signal })) if (l.line === 'ready') ac.abort()
    return id
  }
  const collect = (labels: Record<string, string>): { events: RuntimeEvent[]; stop: () => Promise<RuntimeEvent[]> } => {
    const ac = new AbortController()
    const events: RuntimeEvent[] = []
    const done = (async () => {
      for await (const e of target().runtime.events({ labels, signal: ac.signal })) events.push(e)
    })()
    return { events, stop: async () => { ac.abort(); await done; return events } }
  }
  const trail = (events: readonly RuntimeEvent[], id: string): string[] =>
    events.filter((e) => e.id === id).map((e) => (e.type === 'die' ? `die:${e.exitCode}` : e.type))
  const restart = async (): Promise<void> => {
    const t = target()
    const before = t.reattachCount()
    await t.stopDaemon()
    await t.startDaemon()
    await t.reattached(before)
  }

  it('keeps following a running container across a daemon restart: no exit reported, stop works, the real exit code once', async () => {
    const labels = { scenario: 'survive' }
    const sub = collect(labels)
    const { runtime } = target()
    const id = await runReady(LOOP, labels)
    // The loop's shell (its short-lived sleeps come and go).
    const shell = initPid(pidsOf(id))
    await restart()
    expect((await runtime.inspect(id)).state).toBe('running')
    expect(existsSync(`/proc/${shell}`)).toBe(true)
    expect(trail(sub.events, id)).toEqual(['create', 'start'])
    await runtime.stop(id, { graceMs: 30_000 })
    expect(await runtime.wait(id)).toBe(7)
    const info = await runtime.inspect(id)
    expect([info.state, info.exitCode]).toEqual(['exited', 7])
    expect(existsSync(`/proc/${shell}`)).toBe(false)
    expect(pidsOf(id)).toEqual([])
    // Output written after the restart is still collected.
    const lines: string[] = []
    for await (const l of runtime.logs(id)) lines.push(l.line)
    expect(lines).toEqual(['ready', 'bye'])
    await runtime.remove(id)
    await eventually(() => trail(sub.events, id).includes('destroy'), 'destroy')
    expect(trail(await sub.stop(), id)).toEqual(['create', 'start', 'die:7', 'destroy'])
  }, timeout)

  it('remove({ force }) right after a daemon restart leaves no process behind, children included', async () => {
    const labels = { scenario: 'remove' }
    const sub = collect(labels)
    const { runtime } = target()
    const id = await runReady('sleep 1000 & sleep 1000 & echo ready; wait', labels)
    await eventually(() => pidsOf(id).length === 3, 'sh and two sleeps')
    const pids = pidsOf(id)
    const t = target()
    await t.stopDaemon()
    await t.startDaemon()
    // No waiting for the runtime to reattach: remove must cope with a connection still coming back.
    await runtime.remove(id, { force: true })
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false)
    expect(pidsOf(id)).toEqual([])
    await expect(runtime.inspect(id)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError' }))
    await eventually(() => trail(sub.events, id).includes('destroy'), 'destroy')
    expect(trail(await sub.stop(), id)).toEqual(['create', 'start', 'die:137', 'destroy'])
  }, timeout)

  it('reports the real exit code of a container that ended while the daemon was down', async () => {
    const labels = { scenario: 'ended-while-down' }
    const sub = collect(labels)
    const { runtime } = target()
    const id = await runReady(LOOP, labels)
    const t = target()
    const before = t.reattachCount()
    await t.stopDaemon()
    process.kill(initPid(pidsOf(id)), 'SIGKILL')
    await eventually(() => pidsOf(id).length === 0, 'the processes to end')
    await t.startDaemon()
    expect(await runtime.wait(id)).toBe(137)
    expect(t.reattachCount()).toBeGreaterThanOrEqual(before)
    const info = await runtime.inspect(id)
    expect([info.state, info.exitCode]).toEqual(['exited', 137])
    await runtime.remove(id)
    await eventually(() => trail(sub.events, id).includes('destroy'), 'destroy')
    expect(trail(await sub.stop(), id)).toEqual(['create', 'start', 'die:137', 'destroy'])
  }, timeout)
}
