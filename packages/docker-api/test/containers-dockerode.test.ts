/**
 * dockerode (the npm client) driving classic containers: create, start, wait, logs (demultiplexed
 * with dockerode's own modem), inspect, list and remove — the calls an embedder's tooling makes.
 */
import { PassThrough } from 'node:stream'
import { finished } from 'node:stream/promises'
import Docker from 'dockerode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DockerRig } from './rig.ts'

let rig: DockerRig
let docker: Docker
beforeAll(async () => {
  rig = await DockerRig.start({ managers: 1, runtime: 'process', distinctHostnames: true })
  docker = new Docker({ socketPath: rig.server.socketPath })
}, 120_000)
afterAll(async () => {
  await rig?.close()
})

/** Reads a multiplexed log buffer into its stdout and stderr text with dockerode's demuxer. */
async function demux(raw: Buffer): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough()
  const err = new PassThrough()
  const text = { stdout: '', stderr: '' }
  out.on('data', (d: Buffer) => (text.stdout += d.toString('utf8')))
  err.on('data', (d: Buffer) => (text.stderr += d.toString('utf8')))
  const source = new PassThrough()
  docker.modem.demuxStream(source, out, err)
  source.end(raw)
  await finished(source)
  out.end()
  err.end()
  await Promise.all([finished(out), finished(err)])
  return text
}

describe('dockerode with classic containers', () => {
  it('creates, starts, waits for, reads the logs of, lists and removes a container', async () => {
    const container = await docker.createContainer({ name: 'job', Image: 'busybox', Cmd: ['sh', '-c', 'echo done; echo warn >&2; exit 2'], Env: ['constraint:node==manager-1'] })
    const waited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>
    await container.start()
    expect(await waited).toEqual({ StatusCode: 2, Error: null })
    const info = await container.inspect()
    expect([info.Name, info.State.Status, info.State.ExitCode, info.Config.Env]).toEqual(['/job', 'exited', 2, null])
    const logs = await container.logs({ stdout: true, stderr: true, follow: false })
    const { stdout, stderr } = await demux(logs)
    expect([stdout, stderr]).toEqual(['done\n', 'warn\n'])
    const listed = await docker.listContainers({ all: true, filters: { name: ['job'] } })
    expect(listed.map((c) => [c.Names, c.State])).toEqual([[['/manager-1/job'], 'exited']])
    await container.remove()
    expect(await docker.listContainers({ all: true })).toEqual([])
  }, 240_000)

  it('reads the empty logs of a container that never ran, and 404s an unknown one', async () => {
    const container = await docker.createContainer({ name: 'idle', Image: 'busybox', Cmd: ['true'] })
    const logs = await container.logs({ stdout: true, stderr: true, follow: false })
    expect(logs.length).toBe(0)
    expect((await container.inspect()).State.Status).toBe('created')
    await container.remove()
    await expect(docker.getContainer('idle').inspect()).rejects.toMatchObject({ statusCode: 404, json: { message: 'No such container: idle' } })
  }, 240_000)
})
