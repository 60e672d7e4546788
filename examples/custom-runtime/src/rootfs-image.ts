/**
 * Images of {@link RootfsRuntime}: a directory that is a whole root file system, copied for
 * each container (like an unpacked OCI image without layers).
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { FailedPreconditionError } from '@swarmkit-ts/api'
import { findBusybox } from '@swarmkit-ts/engine-adapter'

/** What an image reference means to {@link RootfsRuntime}: a root file system and its defaults. */
export interface RootfsImage {
  /** The image's root directory on the host (absolute); each container starts from a copy of it. */
  readonly rootfs: string
  /** Entrypoint (replaced by `spec.command`). */
  readonly entrypoint?: readonly string[]
  /** Default arguments (replaced by `spec.args`). */
  readonly cmd?: readonly string[]
  /** Environment of the image (under the spec's). @default `{ PATH: DEFAULT_PATH }` */
  readonly env?: Readonly<Record<string, string>>
  /** Default working directory inside the container. @default '/' */
  readonly workingDir?: string
}

/** The `PATH` of a container whose image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/**
 * Builds a busybox image in `dir`: `/bin/busybox` (a copy of a static busybox) with one relative
 * symlink per applet (`/bin/sh`, `/bin/echo`, …), `/etc/passwd` and `/etc/group` with root,
 * `/root`, and `/tmp` (mode 1777). The busybox must be statically linked: nothing else of the
 * host is visible inside a container.
 */
export async function createBusyboxRootfs(dir: string, busybox: string | undefined = findBusybox()): Promise<RootfsImage> {
  if (busybox === undefined) throw new FailedPreconditionError('busybox not found: install busybox-static (apt-get install -y busybox-static)', { reason: 'busybox-missing' })
  const rootfs = resolve(dir)
  for (const sub of ['bin', 'etc', 'root', 'tmp']) await mkdir(join(rootfs, sub), { recursive: true })
  await chmod(join(rootfs, 'tmp'), 0o1777)
  await copyFile(busybox, join(rootfs, 'bin', 'busybox'))
  await chmod(join(rootfs, 'bin', 'busybox'), 0o755)
  const { stdout } = await promisify(execFile)(busybox, ['--list'])
  for (const applet of stdout.split('\n').filter((a) => /^[A-Za-z0-9_.[-]+$/.test(a) && a !== 'busybox')) {
    try {
      await symlink('busybox', join(rootfs, 'bin', applet))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\n')
  return { rootfs, cmd: ['sh'], env: { PATH: '/bin' } }
}
