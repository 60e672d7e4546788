import { execFile } from 'node:child_process'
import { constants, existsSync } from 'node:fs'
import { access, mkdir, readlink, stat, symlink } from 'node:fs/promises'
import { delimiter, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { FailedPreconditionError } from '@swarmkit-ts/api'

/**
 * What an image reference means to {@link ProcessRuntime}: where its programs are, and its
 * defaults. Processes run on the host file system; the image only decides how `command` is found.
 */
export interface ProcessImage {
  /**
   * Directories searched for a command without a `/` (also the process's `PATH`); relative ones are
   * resolved against `process.cwd()` when the runtime opens. A command with a `/` is taken relative
   * to the process's working directory.
   */
  path: readonly string[]
  /** Entrypoint (replaced by `spec.command`). */
  entrypoint?: readonly string[]
  /** Default arguments (replaced by `spec.args`). */
  cmd?: readonly string[]
  /** Environment of the image (under the spec's). */
  env?: Readonly<Record<string, string>>
  /** Default working directory (must exist on the host; resolved like `path`). @default the container's private work dir */
  workingDir?: string
}

/**
 * Finds a static busybox: `/usr/bin/busybox` (Debian's `busybox-static`), `/bin/busybox`, or
 * `busybox` on `PATH`; `undefined` when there is none.
 */
export function findBusybox(): string | undefined {
  for (const p of ['/usr/bin/busybox', '/bin/busybox']) if (existsSync(p)) return p
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'busybox'))) return join(dir, 'busybox')
  }
  return undefined
}

/**
 * Builds a busybox "image" for {@link ProcessRuntime}: `dir` gets one symlink per applet
 * (`sh`, `echo`, `sleep`, `httpd`, …) to the busybox binary, and the image's `PATH` is `dir`,
 * so `sh -c 'sleep 1'` runs busybox's `sh` and `sleep` on the host. A relative `dir` is resolved
 * against `process.cwd()` (the image's `path` is absolute).
 */
export async function createBusyboxImage(dir: string, busybox: string | undefined = findBusybox()): Promise<ProcessImage> {
  if (busybox === undefined) throw new FailedPreconditionError('busybox not found: install busybox-static (apt-get install -y busybox-static)', { reason: 'busybox-missing' })
  const { stdout } = await promisify(execFile)(busybox, ['--list'])
  await mkdir(dir, { recursive: true })
  for (const applet of stdout.split('\n').filter((a) => /^[A-Za-z0-9_.[-]+$/.test(a))) {
    const link = join(dir, applet)
    try {
      await symlink(busybox, link)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || (await readlink(link)) !== busybox) throw err
    }
  }
  return { path: [resolve(dir)], cmd: ['sh'] }
}

/** The outcome of looking a command up: an executable path, or the exit code of failure. */
export type ResolvedExecutable = { ok: true; path: string } | { ok: false; exitCode: 126 | 127; message: string }

async function check(path: string): Promise<ResolvedExecutable | undefined> {
  try {
    const s = await stat(path)
    if (!s.isFile()) return { ok: false, exitCode: 126, message: `${path} is not a regular file` }
    await access(path, constants.X_OK)
    return { ok: true, path }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    return { ok: false, exitCode: 126, message: `${path}: ${code ?? String(err)}` }
  }
}

/**
 * Resolves `name` like `execvp` over `path`, to an absolute path: a name with a `/` is taken
 * relative to `cwd` (the process's working directory, as `execvp` would after `chdir`); 127 when
 * not found, 126 when not executable.
 */
export async function resolveExecutable(name: string, path: readonly string[], cwd: string): Promise<ResolvedExecutable> {
  if (name === '') return { ok: false, exitCode: 127, message: 'empty command' }
  if (name.includes('/')) return (await check(resolve(cwd, name))) ?? { ok: false, exitCode: 127, message: `exec: "${name}": no such file or directory` }
  let denied: ResolvedExecutable | undefined
  for (const dir of path) {
    const r = await check(resolve(cwd, dir, name))
    if (r?.ok === true) return r
    denied ??= r
  }
  return denied ?? { ok: false, exitCode: 127, message: `exec: "${name}": executable file not found in $PATH` }
}
