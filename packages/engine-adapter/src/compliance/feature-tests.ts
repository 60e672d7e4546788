import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { LOOP_UNTIL_TERM, eventTrail, type Harness } from './harness.ts'

const MEMORY_SCRIPT =
  'if [ -f /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max; else cat /sys/fs/cgroup/memory/memory.limit_in_bytes; fi'
const CPU_SCRIPT =
  'if [ -f /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/cpu.max; else echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi'

/** Sends one HTTP request to 127.0.0.1:port and resolves with the status line, or rejects. */
function httpStatusLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let data = ''
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')))
    socket.on('connect', () => socket.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'))
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1')
      const end = data.indexOf('\r\n')
      if (end >= 0) {
        socket.destroy()
        resolve(data.slice(0, end))
      }
    })
    socket.on('error', reject)
    socket.on('close', () => reject(new Error(`connection closed after ${JSON.stringify(data)}`)))
  })
}

/** Memory/CPU limits, healthcheck, published ports — or, without the capability, their refusal. */
export function featureTests(h: Harness): void {
  const t = h.timeout
  const caps = h.options.capabilities
  describe('resource limits', () => {
    if (caps.memoryLimit) {
      it('applies a memory limit (visible in the cgroup)', async () => {
        const { id, exitCode } = await h.run(h.sh(MEMORY_SCRIPT, { resources: { memoryBytes: 64 * 1024 * 1024 } }))
        expect(exitCode).toBe(0)
        expect(await h.stdout(id)).toEqual(['67108864'])
      }, t)
    } else {
      it('refuses a memory limit it cannot enforce', async () => {
        await expect(h.runtime.create(h.sh('true', { resources: { memoryBytes: 64 * 1024 * 1024 } }))).rejects.toThrow(
          expect.objectContaining({ name: 'InvalidArgumentError', field: 'resources.memoryBytes' }),
        )
      }, t)
    }
    if (caps.cpuLimit) {
      it('applies a CPU limit (CFS quota over a 100 ms period)', async () => {
        const { id, exitCode } = await h.run(h.sh(CPU_SCRIPT, { resources: { nanoCpus: 500_000_000 } }))
        expect(exitCode).toBe(0)
        expect(await h.stdout(id)).toEqual(['50000 100000'])
      }, t)
    } else {
      it('refuses a CPU limit it cannot enforce', async () => {
        await expect(h.runtime.create(h.sh('true', { resources: { nanoCpus: 500_000_000 } }))).rejects.toThrow(
          expect.objectContaining({ name: 'InvalidArgumentError', field: 'resources.nanoCpus' }),
        )
      }, t)
    }
  })

  describe('healthcheck', () => {
    if (caps.healthcheck) {
      it('reports starting, then healthy when the probe succeeds', async () => {
        const sub = h.subscribe()
        const id = await h.runtime.create(h.sh(LOOP_UNTIL_TERM, { healthcheck: { test: ['CMD-SHELL', 'test -d /'], intervalMs: 200, timeoutMs: 5_000, retries: 1 } }))
        expect((await h.runtime.inspect(id)).health).toBe(undefined)
        await h.runtime.start(id)
        const info = await h.poll(() => h.runtime.inspect(id), (i) => i.health === 'healthy', 'healthy')
        expect(info.state).toBe('running')
        const events = await sub.until((es) => es.some((e) => e.type === 'health'), 'health event')
        expect(eventTrail(events, id).slice(0, 3)).toEqual(['create', 'start', 'health:healthy'])
        await sub.close()
      }, t)

      it('reports unhealthy after the retries fail', async () => {
        const id = await h.runtime.create(h.sh(LOOP_UNTIL_TERM, { healthcheck: { test: ['CMD', 'false'], intervalMs: 200, timeoutMs: 5_000, retries: 2 } }))
        await h.runtime.start(id)
        const info = await h.poll(() => h.runtime.inspect(id), (i) => i.health !== 'starting', 'a health verdict')
        expect(info.health).toBe('unhealthy')
        expect(info.state).toBe('running')
      }, t)
    } else {
      it('refuses a healthcheck it cannot run', async () => {
        await expect(h.runtime.create(h.sh('true', { healthcheck: { test: ['CMD', 'true'] } }))).rejects.toThrow(
          expect.objectContaining({ name: 'InvalidArgumentError', field: 'healthcheck' }),
        )
      }, t)
    }
  })

  describe('ports', () => {
    if (caps.ports) {
      it('publishes a port that reaches the workload listening on $PORT', async () => {
        const id = await h.runtime.create(h.sh('exec httpd -f -p "$PORT" -h /', { ports: [{ target: 8080 }] }))
        expect((await h.runtime.inspect(id)).ports).toEqual([])
        await h.runtime.start(id)
        const [port, ...more] = (await h.runtime.inspect(id)).ports
        expect(more).toEqual([])
        expect(port).toMatchObject({ target: 8080, protocol: 'tcp' })
        const published = port?.published ?? 0
        expect(published).toBeGreaterThan(0)
        const status = await h.poll(
          () => httpStatusLine(published).catch((err: unknown) => `error: ${String(err)}`),
          (s) => s.startsWith('HTTP/'),
          `HTTP on 127.0.0.1:${published}`,
        )
        expect(status).toMatch(/^HTTP\/1\.[01] \d{3} /)
      }, t)

      it('refuses an invalid port', async () => {
        await expect(h.runtime.create(h.sh('true', { ports: [{ target: 70_000 }] }))).rejects.toThrow(
          expect.objectContaining({ name: 'InvalidArgumentError', field: 'ports[0].target' }),
        )
      }, t)
    } else {
      it('refuses ports it cannot publish', async () => {
        await expect(h.runtime.create(h.sh('true', { ports: [{ target: 8080 }] }))).rejects.toThrow(
          expect.objectContaining({ name: 'InvalidArgumentError', field: 'ports' }),
        )
      }, t)
    }
  })
  // Joining networks needs engine networks, which are not part of this contract: only the refusal is checked here.
  if (caps.networks !== true) {
    describe('networks', () => {
      it('refuses networks it cannot join', async () => {
        await expect(h.runtime.create(h.sh('true', { networks: [{ network: 'n1' }] }))).rejects.toThrow(
          expect.objectContaining({ name: 'InvalidArgumentError', field: 'networks' }),
        )
      }, t)
    })
  }
}
