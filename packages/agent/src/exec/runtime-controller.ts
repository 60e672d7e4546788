/**
 * The {@link TaskController} of {@link RuntimeExecutor}: one task's container on a
 * `ContainerRuntime`, modelled on SwarmKit's Docker controller (swarmd/dockerexec).
 */
import { type ContainerStatus, type Logger, type PortStatus, type Task, InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import type { ContainerInfo, ContainerRuntime, RuntimeCapabilities, RuntimeEvent } from '@swarmkit-ts/engine-adapter'
import type { TaskController, TaskDependencies } from './controller.ts'
import { ContainerUnhealthyError, ControllerClosedError, TaskExitError } from './errors.ts'
import type { ContainerIndex } from './container-index.ts'
import type { TaskNetworking } from './networking.ts'
import { stopGracePeriodMs, TASK_ID_LABEL, taskRuntimeSpec } from './task-spec.ts'

/** What a {@link RuntimeTaskController} needs from its executor. */
export interface RuntimeTaskControllerInit {
  /** The engine. */
  runtime: ContainerRuntime
  /** The runtime's capabilities (asked once by the executor). */
  capabilities: () => Promise<RuntimeCapabilities>
  /** The task's secrets and configs. */
  deps: TaskDependencies
  /** Log lines carry the task id. */
  logger: Logger
  /** The tasks' networks and published ports. @default none: the runtime's default network */
  networking?: TaskNetworking | undefined
  /**
   * Which container runs which task, shared by the controllers of one executor. @default none:
   * the controller asks the runtime (`list` by the task-id label) when it needs its container
   */
  index?: ContainerIndex | undefined
}

const isNotFound = (err: unknown): boolean => err instanceof Error && err.name === 'NotFoundError'

/**
 * A task's container on a runtime. Finds the container by the task-id label before creating one,
 * so that a controller made after a restart (or by a second executor) adopts the container
 * instead of running the task twice.
 */
export class RuntimeTaskController implements TaskController {
  #task: Task
  readonly #init: RuntimeTaskControllerInit
  /** Aborted by `close()`; made when first needed (most controllers never need it). */
  #closing: AbortController | undefined
  #closed = false
  /** The last step signal given to `#signal`, and the controller that follows it and `close()` (steps reuse their signal). */
  #stepSignal: AbortSignal | undefined
  #step: AbortController | undefined
  #id: string | undefined
  #info: ContainerInfo | undefined
  #ports: PortStatus | undefined

  constructor(task: Task, init: RuntimeTaskControllerInit) {
    this.#task = task
    this.#init = init
  }

  /** The task as last given. */
  get task(): Task {
    return this.#task
  }

  update(task: Task): void {
    this.#checkOpen()
    if (task.id !== this.#task.id) throw new InvalidArgumentError('task.id', `controller of task ${this.#task.id} cannot take task ${task.id}`)
    this.#task = task
  }

  async prepare(signal: AbortSignal): Promise<void> {
    this.#checkOpen()
    if ((await this.#find()) !== undefined) return
    const mapped = taskRuntimeSpec(this.#task, this.#init.deps, await this.#init.capabilities())
    signal.throwIfAborted()
    const spec = this.#init.networking === undefined ? mapped : await this.#init.networking.prepareTask(this.#task, mapped, this.#signal(signal))
    signal.throwIfAborted()
    try {
      await this.#init.runtime.pullImage(spec.image, { signal: this.#signal(signal) })
    } catch (err) {
      signal.throwIfAborted()
      this.#init.logger.warn('image pull failed', { image: spec.image, err: (err as Error).message })
    }
    signal.throwIfAborted()
    this.#checkOpen()
    try {
      this.#id = await this.#init.runtime.create(spec)
    } catch (err) {
      // Another controller of the same task created it meanwhile (the name is the task's): adopt it.
      if (err instanceof Error && err.name === 'AlreadyExistsError' && (await this.#listed()) !== undefined) return
      throw err
    }
    this.#init.index?.created(this.#task.id, this.#id)
    await this.#refresh()
  }

  async start(signal: AbortSignal): Promise<void> {
    this.#checkOpen()
    const info = await this.#require()
    const id = info.id
    // Started before (running, or ran and exited): never start twice.
    if (info.state !== 'created') return this.#observePorts()
    const runtime = this.#init.runtime
    const startContainer = async (): Promise<void> => {
      try {
        await runtime.start(id)
      } finally {
        await this.#refresh() // a failed start leaves the container exited with its code
      }
    }
    if (!this.#hasHealthcheck()) {
      await startContainer()
      return this.#observePorts()
    }
    const stopEvents = new AbortController()
    const events = this.#events(id, AbortSignal.any([signal, stopEvents.signal, this.#closingSignal()]))
    try {
      await startContainer()
      let unhealthy: ContainerUnhealthyError | undefined
      for await (const ev of events) {
        if (ev.type === 'die') {
          await this.#refresh()
          if (ev.exitCode !== 0) throw new TaskExitError(ev.exitCode, { cause: unhealthy })
          return
        }
        if (ev.type === 'destroy') throw new TaskExitError(this.#info?.exitCode ?? 137, { cause: new Error('container destroyed') })
        if (ev.type === 'health' && ev.health === 'healthy') return await this.#observePorts()
        if (ev.type === 'health' && ev.health === 'unhealthy' && unhealthy === undefined) {
          unhealthy = new ContainerUnhealthyError(id)
          await this.shutdown(signal)
        }
      }
      signal.throwIfAborted()
      this.#checkOpen()
    } finally {
      stopEvents.abort()
    }
  }

  wait(signal: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new ControllerClosedError(this.#task.id))
    if (this.#hasHealthcheck()) return this.#waitWatchingHealth(signal)
    // A chain rather than an async function: a running task waits here for as long as it runs.
    return this.#require()
      .then(({ id }) => this.#init.runtime.wait(id, { signal: this.#signal(signal) }))
      .then((code) =>
        this.#refresh().then(() => {
          if (code !== 0) throw new TaskExitError(code)
        }),
      )
  }

  /** `wait` with the container's health watched: an unhealthy container is stopped and its task fails. */
  async #waitWatchingHealth(signal: AbortSignal): Promise<void> {
    const { id } = await this.#require()
    const stopWatch = new AbortController()
    const watchSignal = AbortSignal.any([signal, stopWatch.signal, this.#closingSignal()])
    let unhealthy: ContainerUnhealthyError | undefined
    const watch = this.#watchHealth(id, watchSignal, () => {
      unhealthy ??= new ContainerUnhealthyError(id)
      return this.shutdown(watchSignal)
    })
    try {
      const code = await this.#init.runtime.wait(id, { signal: this.#signal(signal) })
      await this.#refresh()
      if (code !== 0) throw new TaskExitError(code, { cause: unhealthy })
    } finally {
      stopWatch.abort()
      await watch
    }
  }

  async shutdown(signal: AbortSignal): Promise<void> {
    this.#checkOpen()
    const id = this.#id ?? (await this.#find())?.id
    if (id === undefined) return
    signal.throwIfAborted()
    try {
      await this.#init.runtime.stop(id, { graceMs: stopGracePeriodMs(this.#task) })
      await this.#refresh()
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
  }

  async terminate(): Promise<void> {
    this.#checkOpen()
    const id = this.#id ?? (await this.#find())?.id
    if (id === undefined) return
    try {
      await this.#init.runtime.stop(id, { graceMs: 0 })
      await this.#refresh()
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }

  async remove(): Promise<void> {
    this.#checkOpen()
    try {
      await this.shutdown(this.#closingSignal())
    } catch (err) {
      this.#init.logger.debug('shutdown failed on removal', { err: (err as Error).message })
    }
    const id = this.#id ?? (await this.#find())?.id
    if (id === undefined) return
    try {
      await this.#init.runtime.remove(id, { force: true })
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
    this.#init.index?.removed(this.#task.id, id)
    this.#id = undefined
    this.#ports = undefined
    await this.#init.networking?.releaseTask(this.#task.id)
  }

  /** A step controller that `close()` aborts, and that the private `#signal` gives the runtime as it is (no linked controller). */
  stepController(): AbortController {
    const step = new AbortController()
    if (this.#closed) step.abort(new ControllerClosedError(this.#task.id))
    this.#stepSignal = step.signal
    this.#step = step
    return step
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#closing === undefined && this.#step === undefined) return
    const reason = new ControllerClosedError(this.#task.id)
    this.#closing?.abort(reason)
    this.#step?.abort(reason)
  }

  containerStatus(): ContainerStatus | undefined {
    const info = this.#info
    if (info === undefined) return undefined
    const cs: { -readonly [K in keyof ContainerStatus]: ContainerStatus[K] } = { containerId: info.id }
    if (info.exitCode !== undefined) cs.exitCode = info.exitCode
    return cs
  }

  /** Where the task's ports are reachable, as last observed once its container ran (with `networking` only). */
  portStatus(): PortStatus | undefined {
    return this.#ports
  }

  /** Asks the networking where the running container's ports are reachable. */
  async #observePorts(): Promise<void> {
    const networking = this.#init.networking
    const info = this.#info
    if (networking === undefined || info?.state !== 'running') return
    this.#ports = await networking.portStatus(this.#task, info)
  }

  #checkOpen(): void {
    if (this.#closed) throw new ControllerClosedError(this.#task.id)
  }

  /** A signal aborted by `close()`. */
  #closingSignal(): AbortSignal {
    this.#closing ??= new AbortController()
    if (this.#closed && !this.#closing.signal.aborted) this.#closing.abort(new ControllerClosedError(this.#task.id))
    return this.#closing.signal
  }

  /**
   * The step's signal, also aborted when the controller closes. Made once per step signal (the
   * task manager reuses its signal from step to step) and linked by hand: `AbortSignal.any` keeps
   * weak references that cost more to collect than the signal itself.
   */
  #signal(signal: AbortSignal): AbortSignal {
    const step = this.#step
    if (signal === this.#stepSignal && step !== undefined) return step.signal
    const next = new AbortController()
    if (signal.aborted) next.abort(signal.reason)
    else signal.addEventListener('abort', () => next.abort(signal.reason), { once: true })
    if (this.#closed) next.abort(new ControllerClosedError(this.#task.id))
    this.#stepSignal = signal
    this.#step = next
    return next.signal
  }

  /** Whether the mapped spec has a healthcheck (not absent, `['NONE']` or an empty test). */
  #hasHealthcheck(): boolean {
    const test = this.#task.spec.container?.healthcheck?.test ?? []
    return test.length > 0 && test[0] !== 'NONE'
  }

  /** The task's container (known, from the index, or found by its task-id label), remembered; undefined when there is none. */
  async #find(): Promise<ContainerInfo | undefined> {
    if (this.#id !== undefined) {
      const info = await this.#refresh()
      if (info !== undefined) return info
    }
    const index = this.#init.index
    if (index === undefined) return this.#listed()
    const id = await index.lookup(this.#task.id)
    if (id === undefined) return undefined
    this.#id = id
    const info = await this.#refresh()
    if (info === undefined) index.removed(this.#task.id, id)
    return info
  }

  /** The task's container asked of the runtime (by its task-id label), remembered; undefined when there is none. */
  async #listed(): Promise<ContainerInfo | undefined> {
    const found = await this.#init.runtime.list({ labels: { [TASK_ID_LABEL]: this.#task.id } })
    // Several only when an older agent raced: take the oldest, as the one that may be running.
    const first = found.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))[0]
    if (first !== undefined) {
      this.#id = first.id
      this.#info = first
      this.#init.index?.created(this.#task.id, first.id)
    }
    return first
  }

  /** The task's container as it is now; `NotFoundError` when there is none (never prepared, or removed). */
  async #require(): Promise<ContainerInfo> {
    const info = await this.#find()
    if (info === undefined) throw new NotFoundError('container', this.#task.id, { message: `task ${this.#task.id} has no container` })
    return info
  }

  /** Inspects the container again; undefined (and forgotten) once it is gone. */
  async #refresh(): Promise<ContainerInfo | undefined> {
    const id = this.#id
    if (id === undefined) return undefined
    try {
      this.#info = await this.#init.runtime.inspect(id)
      return this.#info
    } catch (err) {
      if (!isNotFound(err)) throw err
      this.#id = undefined
      return undefined
    }
  }

  /** The container's events from now on (the runtime fixes the start at this call) until `signal` aborts. */
  #events(id: string, signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    return onlyContainer(this.#init.runtime.events({ labels: { [TASK_ID_LABEL]: this.#task.id }, signal }), id)
  }

  /** Calls `onUnhealthy` once when the running container is or becomes unhealthy; ends with `signal`. */
  async #watchHealth(id: string, signal: AbortSignal, onUnhealthy: () => Promise<void>): Promise<void> {
    const events = this.#events(id, signal)
    try {
      const info = await this.#refresh()
      if (info?.health === 'unhealthy') return await onUnhealthy()
      for await (const ev of events) {
        if (ev.type === 'health' && ev.health === 'unhealthy') return await onUnhealthy()
        if (ev.type === 'die' || ev.type === 'destroy') return
      }
    } catch (err) {
      if (!signal.aborted) this.#init.logger.debug('health watch ended', { err: (err as Error).message })
    }
  }
}

/** The events of one container out of a subscription. */
async function* onlyContainer(source: AsyncIterable<RuntimeEvent>, id: string): AsyncGenerator<RuntimeEvent> {
  for await (const ev of source) if (ev.id === id) yield ev
}
