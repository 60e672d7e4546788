import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RootfsRuntime, createBusyboxRootfs, type RootfsImage } from '../src/index.ts'
import { rootfsHost } from './host.ts'

const host = await rootfsHost()

/** The stdout lines of a container run to its end. */
async function output(runtime: RootfsRuntime, script: string, image = 'busybox'): Promise<string[]> {
  const id = await runtime.create({ image, command: ['sh', '-c', script] })
  await runtime.start(id)
  expect(await runtime.wait(id)).toBe(0)
  const lines: string[] = []
  for await (const l of runtime.logs(id)) if (l.stream === 'stdout') lines.push(l.line)
  return lines
}

describe.skipIf(host.skipped)('RootfsRuntime', () => {
  let base = ''
  let image: RootfsImage
  let runtime: RootfsRuntime | undefined

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'rootfs-runtime-'))
    image = await createBusyboxRootfs(join(base, 'images', 'busybox'), host.busybox)
  })
  afterEach(async () => {
    await runtime?.close()
    runtime = undefined
    await rm(base, { recursive: true, force: true })
  })

  it('runs each container in a private copy of its image: it sees only the image and its own files, and its writes reach neither the image nor another container', async () => {
    runtime = await RootfsRuntime.open({ stateDir: join(base, 'state'), images: { busybox: image } })
    const id = await runtime.create({ image: 'busybox', command: ['sh', '-c', 'ls /; cat /run/secrets/token; echo mine >/tmp/note; cat /tmp/note'], files: [{ target: '/run/secrets/token', data: 's3cr3t\n' }] })
    await runtime.start(id)
    expect(await runtime.wait(id)).toBe(0)
    const lines: string[] = []
    for await (const l of runtime.logs(id)) lines.push(`${l.stream}:${l.line}`)
    expect(lines).toEqual(['stdout:bin', 'stdout:etc', 'stdout:root', 'stdout:run', 'stdout:tmp', 'stdout:s3cr3t', 'stdout:mine'])
    expect(await output(runtime, 'ls /tmp; test -e /run/secrets/token || echo no secret here')).toEqual(['no secret here'])
    expect(existsSync(join(image.rootfs, 'tmp', 'note'))).toBe(false)
    expect(existsSync(join(image.rootfs, 'run'))).toBe(false)
  })

  it("follows an image's absolute symlinks inside the container's root when writing its files and working directory, never to the host", async () => {
    const outside = join(base, 'host-dir') // an absolute host path the image's links name
    await mkdir(outside)
    await symlink(outside, join(image.rootfs, 'conf'))
    await symlink(join(outside, 'work'), join(image.rootfs, 'work'))
    runtime = await RootfsRuntime.open({ stateDir: join(base, 'state'), images: { busybox: image } })
    const id = await runtime.create({ image: 'busybox', command: ['sh', '-c', 'cat /conf/app.conf; pwd'], workingDir: '/work', files: [{ target: '/conf/app.conf', data: 'port=80\n' }] })
    await runtime.start(id)
    expect(await runtime.wait(id)).toBe(0)
    const lines: string[] = []
    for await (const l of runtime.logs(id)) lines.push(`${l.stream}:${l.line}`)
    // Inside, /work is the link, so pwd shows where it leads: the same path as on the host, but inside the root.
    expect(lines).toEqual(['stdout:port=80', `stdout:${join(outside, 'work')}`])
    expect(await readdir(outside)).toEqual([])
  })

  it('removes a container with its root file system, and close removes every container left, running or not', async () => {
    const stateDir = join(base, 'state')
    runtime = await RootfsRuntime.open({ stateDir, images: { busybox: image } })
    const done = await runtime.create({ image: 'busybox', command: ['true'] })
    await runtime.start(done)
    await runtime.wait(done)
    expect(await readdir(join(stateDir, 'containers'))).toEqual([done])
    await runtime.remove(done)
    expect(await readdir(join(stateDir, 'containers'))).toEqual([])
    const created = await runtime.create({ image: 'busybox', command: ['true'] })
    const loop = await runtime.create({ image: 'busybox', command: ['sh', '-c', "trap '' TERM; while true; do sleep 0.1; done"] })
    await runtime.start(loop)
    const waited = runtime.wait(loop)
    const never = expect(runtime.wait(created)).rejects.toThrow(expect.objectContaining({ name: 'NotFoundError', id: created }))
    await runtime.close()
    expect(await waited).toBe(137)
    await never
    expect(await runtime.list()).toEqual([])
    expect(await readdir(join(stateDir, 'containers'))).toEqual([])
    await expect(runtime.create({ image: 'busybox', command: ['true'] })).rejects.toThrow(expect.objectContaining({ name: 'FailedPreconditionError', reason: 'runtime-closed' }))
  })

  it('refuses an image whose reference or root is bad, naming the field', async () => {
    await expect(RootfsRuntime.open({ stateDir: join(base, 'state'), images: { 'Bad/Ref': image } })).rejects.toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'images.Bad/Ref' }),
    )
    await expect(RootfsRuntime.open({ stateDir: join(base, 'state'), images: { busybox: { rootfs: 'images/busybox' } } })).rejects.toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError', field: 'images.busybox.rootfs' }),
    )
  })

  it('uses the image defaults: its command when the spec has none, its working directory and environment under the spec\'s', async () => {
    const app: RootfsImage = { ...image, cmd: ['sh', '-c', 'echo "$GREETING from $(pwd)"'], workingDir: '/srv/app', env: { PATH: '/bin', GREETING: 'hi' } }
    runtime = await RootfsRuntime.open({ stateDir: join(base, 'state'), images: { busybox: image, 'local/app:1': app } })
    const id = await runtime.create({ image: 'local/app:1', env: { GREETING: 'hello' } })
    await runtime.start(id)
    expect(await runtime.wait(id)).toBe(0)
    const lines: string[] = []
    for await (const l of runtime.logs(id)) lines.push(l.line)
    expect(lines).toEqual(['hello from /srv/app'])
  })
})
