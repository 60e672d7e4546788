import { describe, expect, it } from 'vitest'
import { LOOP_UNTIL_TERM, type Harness } from './harness.ts'

/** create/start/wait, inspect through every state, stop with grace, remove, list. */
export function lifecycleTests(h: Harness): void {
  const t = h.timeout
  describe('lifecycle', () => {
    it('describe() reports the declared capabilities', async () => {
      const d = await h.runtime.describe()
      expect(d.capabilities).toEqual(h.options.capabilities)
      expect(d.name).not.toBe('')
      expect(d.version).not.toBe('')
    }, t)

    it('pullImage of a present image resolves', async () => {
      await expect(h.runtime.pullImage(h.image)).resolves.toBeUndefined()
    }, t)

    it('create, start and wait give the exit code', async () => {
      const { id, exitCode } = await h.run(h.sh('echo hi; exit 3'))
      expect(exitCode).toBe(3)
      expect(await h.stdout(id)).toEqual(['hi'])
      expect((await h.runtime.inspect(id)).exitCode).toBe(3)
    }, t)

    it('a process that ends normally exits 0', async () => {
      const { exitCode } = await h.run(h.sh('true'))
      expect(exitCode).toBe(0)
    }, t)

    it('inspect goes through created, running, exited; after remove the container is gone', async () => {
      const spec = h.sh(LOOP_UNTIL_TERM)
      const id = await h.runtime.create(spec)
      const created = await h.runtime.inspect(id)
      expect(created).toMatchObject({ id, image: h.image, state: 'created', exitCode: undefined, startedAt: undefined, finishedAt: undefined })
      expect(created.labels).toEqual(spec.labels)
      await h.runtime.start(id)
      const running = await h.runtime.inspect(id)
      expect(running).toMatchObject({ id, state: 'running', exitCode: undefined, finishedAt: undefined })
      expect(typeof running.startedAt).toBe('number')
      await h.waitForLine(id, 'ready')
      await h.runtime.stop(id, { graceMs: 10_000 })
      const exited = await h.runtime.inspect(id)
      expect(exited).toMatchObject({ id, state: 'exited', exitCode: 0 })
      expect(exited.finishedAt).toBeGreaterThanOrEqual(exited.startedAt ?? Infinity)
      await h.runtime.remove(id)
      await expect(h.runtime.inspect(id)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError', kind: 'container', id }))
      expect(await h.runtime.list({ labels: h.labels() })).toEqual([])
    }, t)

    it('wait on a created container resolves after it was started and exited', async () => {
      const id = await h.runtime.create(h.sh('exit 4'))
      const waited = h.runtime.wait(id)
      await h.runtime.start(id)
      expect(await waited).toBe(4)
      expect(await h.runtime.wait(id)).toBe(4)
    }, t)

    it('wait rejects with the abort reason and leaves the container running', async () => {
      const id = await h.runLoop()
      const ac = new AbortController()
      const waited = h.runtime.wait(id, { signal: ac.signal })
      ac.abort()
      await expect(waited).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }))
      expect((await h.runtime.inspect(id)).state).toBe('running')
    }, t)

    it('start of a running container is a no-op; start of an exited one is refused', async () => {
      const id = await h.runLoop()
      await h.runtime.start(id)
      expect((await h.runtime.inspect(id)).state).toBe('running')
      await h.runtime.stop(id)
      await expect(h.runtime.start(id)).rejects.toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'container-exited' }))
    }, t)

    it('a missing executable fails start with ContainerStartError and exit code 127', async () => {
      const sub = h.subscribe()
      const id = await h.runtime.create(h.spec({ command: ['/swarmkit-ts-no-such-dir/no-such-program'] }))
      await expect(h.runtime.start(id)).rejects.toThrow(expect.objectContaining({ name: 'ContainerStartError', id, exitCode: 127 }))
      const info = await h.runtime.inspect(id)
      expect(info).toMatchObject({ state: 'exited', exitCode: 127 })
      expect(info.error).toEqual(expect.any(String))
      await h.runtime.remove(id)
      const events = await sub.until((es) => es.some((e) => e.type === 'destroy'), 'destroy')
      expect(events.map((e) => e.type)).toEqual(['create', 'destroy'])
      await sub.close()
    }, t)
  })

  describe('stop', () => {
    it('sends SIGTERM, and a process that handles it exits with its own code', async () => {
      const id = await h.runtime.create(h.sh("trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 0.1; done"))
      await h.runtime.start(id)
      await h.waitForLine(id, 'ready')
      await h.runtime.stop(id, { graceMs: 20_000 })
      expect((await h.runtime.inspect(id)).state).toBe('exited')
      expect(await h.runtime.wait(id)).toBe(7)
      expect(await h.stdout(id)).toEqual(['ready', 'got TERM'])
    }, t)

    it('kills a process that ignores SIGTERM once the grace period is over (exit 137)', async () => {
      const id = await h.runtime.create(h.sh("trap '' TERM; echo ready; while true; do sleep 0.1; done"))
      await h.runtime.start(id)
      await h.waitForLine(id, 'ready')
      await h.runtime.stop(id, { graceMs: 300 })
      expect(await h.runtime.wait(id)).toBe(137)
      expect((await h.runtime.inspect(id)).exitCode).toBe(137)
    }, t)

    it('is a no-op for created and exited containers', async () => {
      const created = await h.runtime.create(h.sh('exit 0'))
      await h.runtime.stop(created, { graceMs: 0 })
      expect((await h.runtime.inspect(created)).state).toBe('created')
      const { id } = await h.run(h.sh('exit 2'))
      await h.runtime.stop(id, { graceMs: 0 })
      expect((await h.runtime.inspect(id)).exitCode).toBe(2)
    }, t)
  })

  describe('remove', () => {
    it('refuses a running container without force and kills it with force', async () => {
      const id = await h.runLoop()
      await expect(h.runtime.remove(id)).rejects.toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'container-running' }))
      expect((await h.runtime.inspect(id)).state).toBe('running')
      const waited = h.runtime.wait(id)
      await h.runtime.remove(id, { force: true })
      expect(await waited).toBe(137)
      await expect(h.runtime.inspect(id)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError', id }))
    }, t)

    it('removes a created container and its logs', async () => {
      const { id } = await h.run(h.sh('echo bye'))
      expect(await h.stdout(id)).toEqual(['bye'])
      await h.runtime.remove(id)
      await expect(h.logs(id)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError', id }))
      const created = await h.runtime.create(h.sh('true'))
      await h.runtime.remove(created)
      await expect(h.runtime.inspect(created)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError' }))
    }, t)
  })

  describe('list', () => {
    it('lists containers in every state by label', async () => {
      const a1 = await h.runtime.create(h.sh('exit 0', { labels: { role: 'a' } }))
      const a2 = await h.runLoop({ labels: { role: 'a' } })
      const { id: b } = await h.run(h.sh('exit 1', { labels: { role: 'b' } }))
      const byRole = async (role: string): Promise<string[]> => (await h.runtime.list({ labels: { ...h.labels(), role } })).map((i) => i.id).sort()
      expect(await byRole('a')).toEqual([a1, a2].sort())
      expect(await byRole('b')).toEqual([b])
      expect(await byRole('c')).toEqual([])
      const all = await h.runtime.list({ labels: h.labels() })
      expect(all.map((i) => [i.id, i.state]).sort()).toEqual(
        [
          [a1, 'created'],
          [a2, 'running'],
          [b, 'exited'],
        ].sort(),
      )
      expect(all.find((i) => i.id === b)?.labels).toEqual({ ...h.labels(), role: 'b' })
    }, t)
  })
}
