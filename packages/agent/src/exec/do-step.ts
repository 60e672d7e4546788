/**
 * One step of a task's life on its node: SwarmKit's `exec.Do` (agent/exec/controller.go), with
 * the retry of temporary errors folded in.
 */
import { sleep, silentLogger, TaskState, taskStateName, type Clock, type ContainerStatus, type Logger, type Task, type TaskStatus } from '@swarmkit-ts/api'
import type { TaskController } from './controller.ts'
import { isTemporaryError } from './errors.ts'

/** Backoff of `doStep`'s retries of temporary errors. */
export interface RetryBackoff {
  /** First delay. @default 100 */
  initialMs: number
  /** Each next delay is the previous times this. @default 2 */
  factor: number
  /** Delays stop growing here. @default 8000 */
  maxMs: number
}

/** The default {@link RetryBackoff}: 100 ms, doubling, at most 8 s. */
export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { initialMs: 100, factor: 2, maxMs: 8000 }

/** Context of one {@link doStep}. */
export interface DoStepContext {
  /** Time for the status timestamp and the retry backoff. */
  clock: Clock
  /**
   * Aborts the step (the worker aborts it when the task changed): the controller call is
   * abandoned and `doStep` resolves `undefined` (the next step starts from the same status).
   */
  signal: AbortSignal
  /** @default silentLogger */
  logger?: Logger
  /** Backoff between retries of a temporary error. @default DEFAULT_RETRY_BACKOFF */
  backoff?: RetryBackoff
  /**
   * Called before each retry of a temporary error with the status SwarmKit would report
   * meanwhile (same state, `err` set) — e.g. to report it.
   */
  onRetry?: (status: TaskStatus, attempt: number, delayMs: number) => void
}

type Outcome = { kind: 'status'; status: TaskStatus } | { kind: 'noop' } | { kind: 'retry'; status: TaskStatus }

/**
 * One step of SwarmKit's `exec.Do`: given the task (its status and desired state), calls at most
 * one controller method and returns the task's next status, or `undefined` when there is nothing
 * to do now (wait for the task to change) or the step was abandoned (its signal aborted, or the
 * controller closed under it: `ControllerClosedError` never fails a task).
 *
 * 1. Desired ≥ SHUTDOWN: `shutdown` → SHUTDOWN; nothing once the task is COMPLETE or later.
 * 2. Beyond its desired state the task pauses (`undefined`).
 * 3. PREPARING: `prepare` → READY; STARTING: `start` → RUNNING; RUNNING: `wait` → COMPLETE. These
 *    proceed even when the desired state is the current one.
 * 4. Below its desired state: NEW/PENDING/ASSIGNED → ACCEPTED, ACCEPTED → PREPARING,
 *    READY → STARTING (so READY holds while desired is READY: a delayed start).
 * 5. A controller error is fatal unless temporary ({@link isTemporaryError}): before STARTING it
 *    makes the task REJECTED, at or after STARTING FAILED, with `err` set to the error's message
 *    and the exit code of the error (a `TaskExitError`'s, or a start failure's 126/127) in
 *    `containerStatus`. A temporary error is retried
 *    with backoff on the clock until it succeeds, fails for good, or the signal aborts.
 *
 * From STARTING on the status carries the controller's `containerStatus()` (and `portStatus()`,
 * when it has one). A new status clears `err` (unless failed) and has `timestamp` = `clock.now()`.
 */
export function doStep(task: Task, controller: TaskController, ctx: DoStepContext): Promise<TaskStatus | undefined> {
  if (ctx.signal.aborted) return NOTHING
  return new Step(task, controller, ctx).attempt()
}

const NOTHING: Promise<undefined> = Promise.resolve(undefined)
const NOOP: Outcome = { kind: 'noop' }

/**
 * One {@link doStep}: its attempts (a retry of a temporary error is another). Promise chains
 * rather than async functions, and one object rather than closures per stage: a running task
 * waits here for as long as its container runs, so what its wait holds is held per task.
 */
class Step {
  readonly #task: Task
  readonly #ctlr: TaskController
  readonly #ctx: DoStepContext
  readonly #logger: Logger
  /** The attempt (from 1) and the delay before the next one. */
  #n = 1
  #delay: number

  constructor(task: Task, ctlr: TaskController, ctx: DoStepContext) {
    this.#task = task
    this.#ctlr = ctlr
    this.#ctx = ctx
    this.#logger = ctx.logger ?? silentLogger
    this.#delay = (ctx.backoff ?? DEFAULT_RETRY_BACKOFF).initialMs
  }

  /** One attempt: the outcome of at most one controller call, settled in a later microtask. */
  attempt(): Promise<TaskStatus | undefined> {
    if (this.#ctx.signal.aborted) return NOTHING
    try {
      const decided = this.#decide()
      if (decided instanceof Promise) return decided
      return NOTHING.then(() => this.#settle(decided))
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** The attempt's outcome as doStep's result: nothing, the next status, or a retry after a delay. */
  #settle(outcome: Outcome): TaskStatus | undefined | Promise<TaskStatus | undefined> {
    const ctx = this.#ctx
    if (ctx.signal.aborted) return undefined
    switch (outcome.kind) {
      case 'noop':
        return undefined
      case 'status':
        return finish(outcome.status, this.#task, ctx.clock, this.#logger)
      case 'retry': {
        const n = this.#n
        const delay = this.#delay
        this.#logger.warn('temporary task error, retrying', { taskId: this.#task.id, err: outcome.status.err, attempt: n, delayMs: delay })
        ctx.onRetry?.({ ...outcome.status, timestamp: ctx.clock.now() }, n, delay)
        return sleep(ctx.clock, delay, { signal: ctx.signal }).then(
          () => {
            const backoff = ctx.backoff ?? DEFAULT_RETRY_BACKOFF
            this.#n = n + 1
            this.#delay = Math.min(delay * backoff.factor, backoff.maxMs)
            return this.attempt()
          },
          () => undefined,
        )
      }
    }
  }

  /** The step's outcome, or the promise of doStep's result when a controller call runs. */
  #decide(): Outcome | Promise<TaskStatus | undefined> {
    const task = this.#task
    const ctlr = this.#ctlr
    const current = task.status
    const signal = this.#ctx.signal
    if (task.desiredState >= TaskState.SHUTDOWN) {
      if (current.state >= TaskState.COMPLETE) return NOOP
      return this.#call(() => ctlr.shutdown(signal), TaskState.SHUTDOWN, 'shutdown')
    }
    if (current.state > task.desiredState) return NOOP
    switch (current.state) {
      case TaskState.PREPARING:
        return this.#call(() => ctlr.prepare(signal), TaskState.READY, 'prepared')
      case TaskState.STARTING:
        return this.#call(() => ctlr.start(signal), TaskState.RUNNING, 'started')
      case TaskState.RUNNING:
        return this.#call(() => ctlr.wait(signal), TaskState.COMPLETE, 'finished')
      default:
        break // the pause states below
    }
    if (current.state >= task.desiredState) return NOOP
    switch (current.state) {
      case TaskState.NEW:
      case TaskState.PENDING:
      case TaskState.ASSIGNED:
        return this.#transition(TaskState.ACCEPTED, 'accepted')
      case TaskState.ACCEPTED:
        return this.#transition(TaskState.PREPARING, 'preparing')
      case TaskState.READY:
        return this.#transition(TaskState.STARTING, 'starting')
      default:
        return NOOP
    }
  }

  /** Calls the controller; a synchronous throw is the call's failure. */
  #call(op: () => Promise<void>, next: TaskState, message: string): Promise<TaskStatus | undefined> {
    let pending: Promise<void>
    try {
      pending = op()
    } catch (err) {
      return NOTHING.then(() => this.#settle(this.#fatal(err)))
    }
    return this.#run(pending, next, message)
  }

  /** The call's end: `next` when it succeeds, its failure's status when not. */
  #run(pending: Promise<void>, next: TaskState, message: string): Promise<TaskStatus | undefined> {
    return pending.then(
      () => this.#settle(this.#transition(next, message)),
      (err: unknown) => this.#settle(this.#fatal(err)),
    )
  }

  #transition(state: TaskState, message: string): Outcome {
    const current = this.#task.status
    const status: TaskStatus = { ...('err' in current ? withoutErr(current) : current), state, message }
    return { kind: 'status', status: withContainer(status, this.#ctlr) }
  }

  #fatal(err: unknown): Outcome {
    const e = err instanceof Error ? err : new Error(String(err))
    // Abandoned, not failed: the step was aborted or the controller closed under it (the agent stopping).
    if (this.#ctx.signal.aborted || e.name === 'ControllerClosedError') return NOOP
    const current = this.#task.status
    const failed: TaskStatus = { ...current, err: e.message }
    if (isTemporaryError(e)) return { kind: 'retry', status: failed }
    this.#logger.error('fatal task error', { taskId: this.#task.id, err: e.message, state: taskStateName(current.state) })
    failed.state = current.state < TaskState.STARTING ? TaskState.REJECTED : TaskState.FAILED
    // Like SwarmKit's ExitCoder: TaskExitError, and the runtime's ContainerStartError (126/127).
    const exitCode = (e as { exitCode?: unknown }).exitCode
    return { kind: 'status', status: withContainer(failed, this.#ctlr, typeof exitCode === 'number' ? exitCode : undefined) }
  }
}

function finish(status: TaskStatus, task: Task, clock: Clock, logger: Logger): TaskStatus {
  const next = { ...status, timestamp: clock.now() }
  // The line's fields are built per status of every task: not for a logger that drops them.
  if (logger !== silentLogger) logger.debug('task state changed', { taskId: task.id, from: taskStateName(task.status.state), to: taskStateName(next.state), desired: taskStateName(task.desiredState) })
  return next
}

function withoutErr(status: TaskStatus): TaskStatus {
  const { err: _err, ...rest } = status
  return rest
}

/** From STARTING on, the status carries the container's status (with the exit code of a failure) and its port status. */
function withContainer(status: TaskStatus, ctlr: TaskController, exitCode?: number): TaskStatus {
  if (status.state < TaskState.STARTING) return status
  let cs: ContainerStatus | undefined = ctlr.containerStatus()
  if (exitCode !== undefined && (cs?.exitCode ?? 0) === 0) cs = { ...cs, exitCode }
  const out = cs === undefined ? status : { ...status, containerStatus: cs }
  const ports = ctlr.portStatus?.()
  return ports === undefined ? out : { ...out, portStatus: ports }
}
