/**
 * `RootfsRuntime`: an embedder's own `ContainerRuntime`. Each container gets its own root file
 * system — a copy of its image directory, with the spec's files written at their real paths — and
 * its process runs chrooted into it (through `unshare`), in its own process group, sharing the
 * host's network and process table. No engine, no daemon: the runtime is this object.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, chown, cp, mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import {
  ContainerStartError,
  EventJournal,
  ImageNotFoundError,
  matchesLabels,
  parseImageReference,
  validateRuntimeContainerSpec,
} from '@swarmkit-ts/engine-adapter'
import type {
  ContainerHealthcheck,
  ContainerInfo,
  ContainerRuntime,
  EventsOptions,
  ListOptions,
  LogLine,
  LogsOptions,
  PullImageOptions,
  RemoveOptions,
  RuntimeCapabilities,
  RuntimeContainerSpec,
  RuntimeDescription,
  RuntimeEvent,
  StopOptions,
  UncursoredEvent,
  WaitOptions,
} from '@swarmkit-ts/engine-adapter'
import { chrootUnavailable, enterArgs, fileInRoot, findExecutable, findUnshare, isRoot, mkdirInRoot, runInRoot } from './chroot.ts'
import { RootfsContainer, type ContainerPlan } from './container.ts'
import { HealthMonitor } from './health.ts'
import { DEFAULT_PATH, type RootfsImage } from './rootfs-image.ts'

/**
 * What `RootfsRuntime` supports: published ports (host networking, so `PORT` is the allocated
 * host port) and health checks (probes run in the container's root). It has no cgroups (no memory
 * or CPU limits) and joins no networks: specs asking for those are refused with `InvalidArgumentError`.
 */
export const ROOTFS_RUNTIME_CAPABILITIES: RuntimeCapabilities = { memoryLimit: false, cpuLimit: false, healthcheck: true, ports: true, networks: false }

/** Construction options of {@link RootfsRuntime.open}. */
export interface RootfsRuntimeInit {
  /** Where containers' root file systems live (`<stateDir>/containers/<id>/rootfs`); created. */
  readonly stateDir: string
  /** The images this runtime knows, by reference (exactly as services name them). */
  readonly images: Readonly<Record<string, RootfsImage>>
  /** Time source of timestamps. @default Date.now */
  readonly now?: () => number
}

/** `Omit` over each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** Default `stop` grace period, as the contract's. */
const DEFAULT_GRACE_MS = 10_000

/** A `ContainerRuntime` whose containers are chrooted processes in private copies of their image. */
export class RootfsRuntime implements ContainerRuntime {
  readonly #stateDir: string
  readonly #images: ReadonlyMap<string, RootfsImage>
  readonly #unshare: string
  readonly #now: () => number
  readonly #containers = new Map<string, RootfsContainer>()
  /** Names in use, including those of containers still being created. */
  readonly #names = new Set<string>()
  readonly #journal = new EventJournal({ instance: randomBytes(6).toString('hex') })
  #closed = false

  private constructor(stateDir: string, images: Readonly<Record<string, RootfsImage>>, unshare: string, now: () => number) {
    this.#stateDir = stateDir
    this.#images = new Map(Object.entries(images))
    this.#unshare = unshare
    this.#now = now
  }

  /**
   * Opens a runtime over `stateDir`. Rejects with `FailedPreconditionError` (reason
   * `chroot-unavailable`) when containers cannot be entered here (no `unshare`, or neither root
   * nor user namespaces), and with `InvalidArgumentError` naming `images.<ref>` for a bad image.
   */
  static async open(init: RootfsRuntimeInit): Promise<RootfsRuntime> {
    for (const [ref, image] of Object.entries(init.images)) {
      parseImageReference(ref, `images.${ref}`)
      if (!image.rootfs.startsWith('/')) throw new InvalidArgumentError(`images.${ref}.rootfs`, 'must be an absolute path')
    }
    const why = await chrootUnavailable()
    const unshare = findUnshare()
    if (why !== undefined || unshare === undefined) throw new FailedPreconditionError(`containers cannot be entered on this host: ${why ?? ''}`, { reason: 'chroot-unavailable' })
    const stateDir = resolve(init.stateDir)
    await mkdir(join(stateDir, 'containers'), { recursive: true, mode: 0o700 })
    return new RootfsRuntime(stateDir, init.images, unshare, init.now ?? Date.now)
  }

  describe(): Promise<RuntimeDescription> {
    return Promise.resolve({ name: 'rootfs', version: '0.1.0', capabilities: { ...ROOTFS_RUNTIME_CAPABILITIES } })
  }

  async pullImage(ref: string, options: PullImageOptions = {}): Promise<void> {
    parseImageReference(ref, 'image')
    options.signal?.throwIfAborted()
    // Images are directories given at open: nothing to fetch.
    if (!this.#images.has(ref)) throw new ImageNotFoundError(ref, { message: `image ${ref} is not one of this runtime's images` })
    options.onProgress?.({ status: 'Image is up to date', item: ref })
    return Promise.resolve()
  }

  async create(spec: RuntimeContainerSpec): Promise<string> {
    this.#open()
    validateRuntimeContainerSpec(spec, ROOTFS_RUNTIME_CAPABILITIES)
    if (!isRoot()) {
      spec.files?.forEach((f, i) => {
        if ((f.uid ?? 0) !== 0) throw new InvalidArgumentError(`files[${i}].uid`, 'only 0 (root) without root privileges')
        if ((f.gid ?? 0) !== 0) throw new InvalidArgumentError(`files[${i}].gid`, 'only 0 (root) without root privileges')
      })
    }
    const image = this.#images.get(spec.image)
    if (image === undefined) throw new ImageNotFoundError(spec.image)
    if (spec.name !== undefined) {
      if (this.#names.has(spec.name)) throw new AlreadyExistsError('container', spec.name)
      this.#names.add(spec.name)
    }
    const id = randomBytes(16).toString('hex')
    const dir = join(this.#stateDir, 'containers', id)
    const workingDir = spec.workingDir ?? image.workingDir ?? '/'
    const argv = spec.command !== undefined ? [...spec.command, ...(spec.args ?? [])] : [...(image.entrypoint ?? []), ...(spec.args ?? image.cmd ?? [])]
    const plan: ContainerPlan = {
      id,
      name: spec.name,
      image: spec.image,
      labels: { ...spec.labels },
      dir,
      rootfs: join(dir, 'rootfs'),
      argv,
      env: { PATH: DEFAULT_PATH, HOME: '/root', HOSTNAME: id.slice(0, 12), ...image.env, ...spec.env },
      workingDir,
      ports: (spec.ports ?? []).map((p) => ({ target: p.target, published: p.published ?? 0, protocol: p.protocol ?? 'tcp' })),
      healthcheck: spec.healthcheck,
    }
    try {
      if (argv.length === 0) throw new InvalidArgumentError('command', `image ${spec.image} has no default command: give one`)
      await this.#prepareRoot(plan, image, spec)
    } catch (err) {
      if (spec.name !== undefined) this.#names.delete(spec.name)
      await rm(dir, { recursive: true, force: true })
      throw err
    }
    this.#containers.set(id, new RootfsContainer(plan, this.#now))
    this.#emit({ type: 'create', id: plan.id, labels: plan.labels })
    return id
  }

  /**
   * The container's root: a copy of the image, its working directory, its files (as root owns them
   * unless told otherwise), every path resolved inside the root (an image's symlinks never lead out).
   */
  async #prepareRoot(plan: ContainerPlan, image: RootfsImage, spec: RuntimeContainerSpec): Promise<void> {
    await mkdir(plan.dir, { mode: 0o700 })
    await cp(image.rootfs, plan.rootfs, { recursive: true, verbatimSymlinks: true, mode: constants.COPYFILE_FICLONE })
    await mkdirInRoot(plan.rootfs, plan.workingDir)
    for (const file of spec.files ?? []) {
      const host = await fileInRoot(plan.rootfs, file.target)
      await writeFile(host, file.data)
      await chmod(host, file.mode ?? 0o444)
      if (isRoot()) await chown(host, file.uid ?? 0, file.gid ?? 0)
    }
  }

  async start(id: string): Promise<void> {
    const c = this.#get(id)
    if (c.starting !== undefined) return c.starting
    if (c.state === 'running') return
    if (c.state === 'exited') throw new FailedPreconditionError(`container ${id} has exited`, { reason: 'container-exited' })
    c.starting = this.#start(c).finally(() => {
      c.starting = undefined
    })
    return c.starting
  }

  async #start(c: RootfsContainer): Promise<void> {
    const { plan } = c
    const [command = ''] = plan.argv
    const found = await findExecutable(plan.rootfs, command, plan.env['PATH'] ?? DEFAULT_PATH, plan.workingDir)
    if ('error' in found) {
      c.failStart(found.exitCode, found.error)
      throw new ContainerStartError(plan.id, found.error, { exitCode: found.exitCode })
    }
    c.ports = await allocatePorts(plan.ports)
    const env = c.ports[0] === undefined ? plan.env : { ...plan.env, PORT: String(c.ports[0].published) }
    const args = enterArgs(plan.rootfs, plan.workingDir, [found.path, ...plan.argv.slice(1)])
    try {
      await c.spawn(this.#unshare, args, env, {
        started: () => {
          this.#emit({ type: 'start', id: plan.id, labels: plan.labels })
          if (plan.healthcheck !== undefined) this.#monitor(c, plan.healthcheck, env)
        },
        exited: (exitCode) => {
          c.monitor?.stop() // no health event after die
          this.#emit({ type: 'die', id: plan.id, labels: plan.labels, exitCode })
        },
      })
    } catch (err) {
      c.failStart(126, (err as Error).message)
      throw new ContainerStartError(plan.id, (err as Error).message, { exitCode: 126, cause: err })
    }
  }

  /** Starts the health probes of a container that just started: each runs in its root, with its environment. */
  #monitor(c: RootfsContainer, check: ContainerHealthcheck, env: Readonly<Record<string, string>>): void {
    const { plan } = c
    const [kind, ...rest] = check.test
    const argv = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', ...rest] : rest
    c.monitor = new HealthMonitor({
      check,
      now: this.#now,
      probe: async (timeoutMs) => {
        const found = await findExecutable(plan.rootfs, argv[0] ?? '', env['PATH'] ?? DEFAULT_PATH, plan.workingDir)
        if ('error' in found) return found.exitCode
        return runInRoot(this.#unshare, plan.rootfs, plan.workingDir, [found.path, ...argv.slice(1)], env, timeoutMs)
      },
      changed: (health) => this.#emit({ type: 'health', id: plan.id, labels: plan.labels, health }),
    })
    c.monitor.start()
  }

  async wait(id: string, options: WaitOptions = {}): Promise<number> {
    const c = this.#get(id)
    const { signal } = options
    if (signal === undefined) return c.done
    signal.throwIfAborted()
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error)
      signal.addEventListener('abort', onAbort, { once: true })
      c.done.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  async stop(id: string, options: StopOptions = {}): Promise<void> {
    const c = this.#get(id)
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS
    if (!(Number.isFinite(graceMs) && graceMs >= 0)) throw new InvalidArgumentError('graceMs', `must be a number ≥ 0, got ${graceMs}`)
    if (c.starting !== undefined) await c.starting.catch(() => undefined)
    if (c.state !== 'running') return
    // As Docker and containerd do: SIGTERM to the main process, whose job it is to end its own
    // children; SIGKILL to every process of the container once the grace period is over.
    c.signalMain('SIGTERM')
    const kill = setTimeout(() => c.signalGroup('SIGKILL'), graceMs)
    try {
      await c.done
    } finally {
      clearTimeout(kill)
    }
  }

  async remove(id: string, options: RemoveOptions = {}): Promise<void> {
    const c = this.#get(id)
    if (c.starting !== undefined) await c.starting.catch(() => undefined)
    if (c.state === 'running') {
      if (options.force !== true) throw new FailedPreconditionError(`container ${id} is running`, { reason: 'container-running' })
      c.signalGroup('SIGKILL')
      await c.done
    }
    if (this.#containers.get(id) !== c) throw new NotFoundError('container', id) // removed meanwhile
    this.#containers.delete(id)
    if (c.plan.name !== undefined) this.#names.delete(c.plan.name)
    if (c.state === 'created') c.forget(new NotFoundError('container', id))
    else c.logs.discard()
    await rm(c.plan.dir, { recursive: true, force: true })
    this.#emit({ type: 'destroy', id, labels: c.plan.labels })
  }

  async inspect(id: string): Promise<ContainerInfo> {
    return Promise.resolve(this.#get(id).info())
  }

  list(options: ListOptions = {}): Promise<ContainerInfo[]> {
    return Promise.resolve([...this.#containers.values()].filter((c) => matchesLabels(c.plan.labels, options.labels)).map((c) => c.info()))
  }

  logs(id: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    const c = this.#containers.get(id)
    // "So far" is fixed now, at the call, not at the first next().
    const start = c?.logs.mark(options.tail)
    return readLogs(id, c, start, options)
  }

  events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    return this.#journal.subscribe(options)
  }

  /** Kills and removes every container (and its root), then refuses further creates. */
  async close(): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#containers.keys()].map((id) => this.remove(id, { force: true }).catch(() => undefined)))
  }

  #open(): void {
    if (this.#closed) throw new FailedPreconditionError('the runtime is closed', { reason: 'runtime-closed' })
  }

  #get(id: string): RootfsContainer {
    const c = this.#containers.get(id)
    if (c === undefined) throw new NotFoundError('container', id)
    return c
  }

  /** Journals an event of a container (its labels copied, the time now). */
  #emit(event: DistributiveOmit<UncursoredEvent, 'time'>): void {
    this.#journal.append({ ...event, labels: { ...event.labels }, time: this.#now() })
  }
}

async function* readLogs(id: string, c: RootfsContainer | undefined, start: number | undefined, options: LogsOptions): AsyncGenerator<LogLine> {
  if (c === undefined) throw new NotFoundError('container', id)
  const { tail, since } = options
  if (tail !== undefined && !(Number.isSafeInteger(tail) && tail >= 0)) throw new InvalidArgumentError('tail', `must be a whole number ≥ 0, got ${tail}`)
  if (since !== undefined && !Number.isFinite(since)) throw new InvalidArgumentError('since', `must be a finite number of ms since the epoch, got ${since}`)
  yield* c.logs.read(options, start)
}

/** Host ports for `ports`: a given one is kept, 0 gets a free loopback port from the OS. */
async function allocatePorts(ports: ContainerPlan['ports']): Promise<{ target: number; published: number; protocol: 'tcp' | 'udp' }[]> {
  const out = []
  for (const p of ports) out.push({ ...p, published: p.published !== 0 ? p.published : await freePort() })
  return out
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new Error('no port'))))
    })
  })
}
