import { describe, expect, it } from 'vitest'
import { missingId, type Harness } from './harness.ts'
import { imageTests } from './image-tests.ts'

/** Command, args, env, working dir, labels, names, files; typed errors; image references. */
export function specTests(h: Harness): void {
  const t = h.timeout
  describe('spec', () => {
    it('runs command followed by args', async () => {
      const { id, exitCode } = await h.run(h.spec({ command: ['echo', 'one'], args: ['two', 'three  four'] }))
      expect(exitCode).toBe(0)
      expect(await h.stdout(id)).toEqual(['one two three  four'])
    }, t)

    it('runs args alone when there is no command (the test image has no entrypoint)', async () => {
      const { id } = await h.run(h.spec({ args: ['echo', 'from-args'] }))
      expect(await h.stdout(id)).toEqual(['from-args'])
    }, t)

    it('passes env', async () => {
      const { id } = await h.run(h.sh('echo "$FOO|$BAR|$EMPTY|${UNSET-unset}"', { env: { FOO: 'a b', BAR: '=x=', EMPTY: '' } }))
      expect(await h.stdout(id)).toEqual(['a b|=x=||unset'])
    }, t)

    it('runs in workingDir', async () => {
      const { id } = await h.run(h.spec({ command: ['pwd'], workingDir: '/tmp' }))
      expect(await h.stdout(id)).toEqual(['/tmp'])
    }, t)

    it('keeps labels and name; a taken name is refused', async () => {
      const name = `swarmkit-ts-compliance-${h.runId}`
      const spec = h.sh('true', { name, labels: { 'com.example.tier': 'web', empty: '' } })
      const id = await h.runtime.create(spec)
      const info = await h.runtime.inspect(id)
      expect(info.name).toBe(name)
      expect(info.labels).toEqual({ ...h.labels(), 'com.example.tier': 'web', empty: '' })
      await expect(h.runtime.create(spec)).rejects.toThrow(expect.objectContaining({ name: 'AlreadyExistsError', kind: 'container', key: name }))
      await h.runtime.remove(id)
      const again = await h.runtime.create(spec)
      expect(again).not.toBe(id)
    }, t)

    it('delivers secret and config files with their mode', async () => {
      const script = 'cat /run/secrets/token; stat -c %a /run/secrets/token; cat /etc/app/app.conf; stat -c %a /etc/app/app.conf'
      const { id, exitCode } = await h.run(
        h.sh(script, {
          files: [
            { target: '/run/secrets/token', data: 's3cr3t\n', mode: 0o400 },
            { target: '/etc/app/app.conf', data: new TextEncoder().encode('port=80\n'), mode: 0o644 },
          ],
        }),
      )
      expect(exitCode).toBe(0)
      expect(await h.stdout(id)).toEqual(['s3cr3t', '400', 'port=80', '644'])
    }, t)
  })

  describe('typed errors', () => {
    it('ImageNotFoundError for an image that is not present', async () => {
      const ref = 'swarmkit-ts.invalid/no-such-image:0'
      await expect(h.runtime.create({ ...h.spec({ command: ['true'] }), image: ref })).rejects.toThrow(
        expect.objectContaining({ name: 'ImageNotFoundError', ref }),
      )
    }, t)

    it('InvalidArgumentError naming the field for a bad spec', async () => {
      const bad = async (field: string, spec: Parameters<typeof h.runtime.create>[0]): Promise<void> => {
        await expect(h.runtime.create(spec)).rejects.toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field }))
      }
      await bad('image', { ...h.spec(), image: '' })
      await bad('command', h.spec({ command: [] }))
      await bad('env.A=B', h.spec({ env: { 'A=B': 'x' } }))
      await bad('workingDir', h.spec({ workingDir: 'relative/dir' }))
      await bad('files[1].target', h.spec({ files: [{ target: '/a', data: '' }, { target: 'b', data: '' }] }))
      await bad('files[0].mode', h.spec({ files: [{ target: '/a', data: '', mode: 0o10000 }] }))
      await bad(h.options.capabilities.healthcheck ? 'healthcheck.test' : 'healthcheck', { ...h.spec(), healthcheck: { test: ['BOGUS'] } })
      expect(await h.runtime.list({ labels: h.labels() })).toEqual([])
    }, t)

    it('NotFoundError from every method for an unknown id', async () => {
      const id = missingId()
      const nf = expect.objectContaining({ name: 'NotFoundError', kind: 'container', id }) as Error
      await expect(h.runtime.inspect(id)).rejects.toThrow(nf)
      await expect(h.runtime.start(id)).rejects.toThrow(nf)
      await expect(h.runtime.wait(id)).rejects.toThrow(nf)
      await expect(h.runtime.stop(id)).rejects.toThrow(nf)
      await expect(h.runtime.remove(id)).rejects.toThrow(nf)
      await expect(h.runtime.remove(id, { force: true })).rejects.toThrow(nf)
      await expect(h.logs(id)).rejects.toThrow(nf)
    }, t)
  })

  imageTests(h)
}
