/**
 * Entering a container's root: `unshare --root=<rootfs> --wd=<dir> <exe> <args…>` (util-linux)
 * chroots, changes directory and execs the workload, which keeps the pid the runtime spawned. As
 * root that is all; as another user, `--user --map-root-user` adds a user namespace in which the
 * process is root (so it may chroot).
 *
 * @module
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { lstat, mkdir, readlink, stat, unlink } from 'node:fs/promises'
import { constants } from 'node:os'
import { join, posix } from 'node:path'
import { promisify } from 'node:util'
import { FailedPreconditionError } from '@swarmkit-ts/api'

/** The `unshare` binary, or `undefined` when the host has none. */
export function findUnshare(): string | undefined {
  for (const p of ['/usr/bin/unshare', '/bin/unshare', '/usr/sbin/unshare', '/sbin/unshare']) if (existsSync(p)) return p
  return undefined
}

/** Whether this process is root (then no user namespace is needed to chroot). */
export function isRoot(): boolean {
  return process.getuid?.() === 0
}

/**
 * Why containers cannot be entered on this host, or `undefined` when they can: `unshare` must
 * exist, and a non-root user must be allowed to create user namespaces.
 */
export async function chrootUnavailable(): Promise<string | undefined> {
  const unshare = findUnshare()
  if (unshare === undefined) return 'unshare (util-linux) not found'
  if (isRoot()) return undefined
  try {
    await promisify(execFile)(unshare, ['--user', '--map-root-user', 'true'])
    return undefined
  } catch (err) {
    return `not root and user namespaces are unavailable (${(err as Error).message.split('\n')[0] ?? ''})`
  }
}

/** The argv of `unshare` that runs `argv` (argv[0] an absolute path inside the root) in `rootfs`, in `workingDir`. */
export function enterArgs(rootfs: string, workingDir: string, argv: readonly string[]): string[] {
  return [...(isRoot() ? [] : ['--user', '--map-root-user']), `--root=${rootfs}`, `--wd=${workingDir}`, '--', ...argv]
}

const MAX_SYMLINKS = 40

/**
 * The host path of `path` (absolute, as seen inside the container) after following its symlinks
 * the way the kernel does after `chroot(rootfs)` (an absolute link target starts again at the
 * root; `..` never leaves it), or `undefined` when a component does not exist.
 */
export async function resolveInRoot(rootfs: string, path: string): Promise<string | undefined> {
  const parts = (p: string): string[] => p.split('/').filter((s) => s !== '' && s !== '.')
  let current: string[] = []
  let remaining = parts(path)
  let hops = 0
  while (remaining.length > 0) {
    const [head = '', ...rest] = remaining
    remaining = rest
    if (head === '..') {
      current.pop()
      continue
    }
    const host = join(rootfs, ...current, head)
    try {
      if (!(await lstat(host)).isSymbolicLink()) {
        current.push(head)
        continue
      }
    } catch {
      return undefined
    }
    if (++hops > MAX_SYMLINKS) return undefined
    const target = await readlink(host)
    if (target.startsWith('/')) current = []
    remaining = [...parts(target), ...remaining]
  }
  return join(rootfs, ...current)
}

/** Where a command was found inside the container, or why it cannot run (126/127 as a shell says). */
export type FoundExecutable = { readonly path: string } | { readonly exitCode: 126 | 127; readonly error: string }

/**
 * Finds `command` inside `rootfs` as `execvp` would after the chroot: a name with a `/` is taken
 * relative to `workingDir`, another is searched in `PATH`. The result keeps the name as found
 * (`/bin/sh`, not its link target), so a multi-call binary like busybox sees the applet's name.
 */
export async function findExecutable(rootfs: string, command: string, path: string, workingDir: string): Promise<FoundExecutable> {
  const candidates = command.includes('/')
    ? [posix.resolve(workingDir, command)]
    : path
        .split(':')
        .filter((dir) => dir.startsWith('/'))
        .map((dir) => posix.join(dir, command))
  let notExecutable: string | undefined
  for (const candidate of candidates) {
    const host = await resolveInRoot(rootfs, candidate)
    if (host === undefined) continue
    const info = await stat(host).catch(() => undefined)
    if (info?.isFile() === true && (info.mode & 0o111) !== 0) return { path: candidate }
    notExecutable ??= candidate
  }
  if (notExecutable !== undefined) return { exitCode: 126, error: `${notExecutable}: permission denied (not an executable file)` }
  return { exitCode: 127, error: `${command}: not found${command.includes('/') ? '' : ` in PATH ${path}`}` }
}

/**
 * Runs `argv` (argv[0] found inside the root) in `rootfs` to its end, as a health probe: resolves
 * with its exit code, 137 once it ran longer than `timeoutMs` (its group is killed), 127 when it
 * could not be spawned.
 */
export function runInRoot(unshare: string, rootfs: string, workingDir: string, argv: readonly string[], env: Readonly<Record<string, string>>, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(unshare, enterArgs(rootfs, workingDir, argv), { env: { ...env }, detached: true, stdio: 'ignore' })
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }, timeoutMs)
    child.once('error', () => {
      clearTimeout(timer)
      resolve(127)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]))
    })
  })
}

/**
 * Creates directory `path` (absolute, as seen inside the container) and its missing parents, each
 * component resolved inside `rootfs` first — so an image's symlink (say `/etc/app -> /srv/app`)
 * leads to the container's `/srv/app`, never out of its root to the host's. Returns its host path.
 */
export async function mkdirInRoot(rootfs: string, path: string, depth = 0): Promise<string> {
  if (depth > MAX_SYMLINKS) throw new FailedPreconditionError(`too many levels of symbolic links making ${path} in the container`, { reason: 'symlink-loop' })
  let host = rootfs
  let inside = '/'
  for (const part of path.split('/').filter((s) => s !== '' && s !== '.')) {
    const parent = inside
    inside = posix.join(inside, part)
    const resolved = await resolveInRoot(rootfs, inside)
    if (resolved !== undefined) {
      host = resolved
      continue
    }
    const next = join(host, part) // `host` has no symlink in it (resolved, or made by us)
    const info = await lstat(next).catch(() => undefined)
    // A dangling link: make what it names, inside the root.
    if (info?.isSymbolicLink() === true) host = await mkdirInRoot(rootfs, posix.resolve(parent, await readlink(next)), depth + 1)
    else {
      await mkdir(next)
      host = next
    }
  }
  return host
}

/** The host path a file at `target` (absolute, inside the container) is written to: its directory made with {@link mkdirInRoot}, a symlink at its place removed. */
export async function fileInRoot(rootfs: string, target: string): Promise<string> {
  const host = join(await mkdirInRoot(rootfs, posix.dirname(target)), posix.basename(target))
  const info = await lstat(host).catch(() => undefined)
  if (info?.isSymbolicLink() === true) await unlink(host)
  return host
}
