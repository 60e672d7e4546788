/**
 * One task's loop on its node (SwarmKit's `agent/task.go` taskManager): runs `doStep` until
 * there is nothing to do, reports each new status, and starts again when the managers change
 * the task.
 *
 * @module
 */
import { silentLogger } from '@swarmkit-ts/api'
import type { Clock, Logger, Task, TaskStatus } from '@swarmkit-ts/api'
import { doStep } from '../exec/index.ts'
import type { DoStepContext, TaskController } from '../exec/index.ts'

/** Abort reasons of a step (shared: the reason is never thrown to a caller, only observed). */
const TASK_CHANGED = new Error('task changed')
const MANAGER_CLOSED = new Error('task manager closed')

/** Construction options of {@link TaskManager}. */
export interface TaskManagerInit {
  /** The task, its `status` the latest one observed on this node. */
  readonly task: Task
  readonly controller: TaskController
  readonly clock: Clock
  /** Called with each new status, in order; the loop waits for it. */
  readonly report: (status: TaskStatus) => Promise<void>
  readonly logger?: Logger
}

/**
 * Merges a task the managers sent with the one held here: their version of everything but the
 * status, which this node owns from ASSIGNED on — theirs only when it is further along (e.g.
 * ORPHANED set by a manager).
 */
export function mergeAssignedTask(local: Task, incoming: Task): Task {
  return { ...incoming, status: incoming.status.state > local.status.state ? incoming.status : local.status }
}

/**
 * Drives one task: `doStep` after `doStep` while each returns a new status; idle (no timer, no
 * call) when there is nothing to do, until {@link TaskManager.update} gives it a changed task. A
 * change of desired state aborts the step in progress (e.g. a `wait` on a running container) so
 * the next step sees it.
 */
export class TaskManager {
  readonly #init: TaskManagerInit
  readonly #logger: Logger
  #task: Task
  #op: AbortController | undefined
  #wake: (() => void) | undefined
  #dirty = false
  #closed = false
  /** The loop was started and has not ended. */
  #running = false
  #started = false
  /** Why the loop ended, when a report failed. */
  #failure: Error | undefined
  /** Resolves `close()`'s wait for the loop's end. */
  #onEnd: (() => void) | undefined
  /** doStep's context, kept while the step signal is (made again only when a step was aborted). */
  #ctx: StepContext | undefined

  constructor(init: TaskManagerInit) {
    this.#init = init
    this.#task = init.task
    this.#logger = (init.logger ?? silentLogger).child({ taskId: init.task.id })
  }

  /** The task with its latest local status. */
  get task(): Task {
    return this.#task
  }

  /** The task's controller. */
  get controller(): TaskController {
    return this.#init.controller
  }

  /** Starts the loop (once). */
  start(): void {
    if (this.#started) return
    this.#started = true
    this.#running = true
    this.#turn()
  }

  /** Gives the loop the managers' latest version of the task. */
  update(incoming: Task): void {
    if (this.#closed) return
    const before = this.#task
    this.#task = mergeAssignedTask(before, incoming)
    this.#init.controller.update(this.#task)
    if (before.desiredState !== this.#task.desiredState) this.#op?.abort(TASK_CHANGED)
    this.#dirty = true
    this.#wake?.()
  }

  /** Stops the loop (the step in progress is aborted) and waits for it; the container is left as it is. */
  async close(): Promise<void> {
    this.#closed = true
    this.#op?.abort(MANAGER_CLOSED)
    this.#wake?.()
    if (this.#running) await new Promise<void>((resolve) => (this.#onEnd = resolve))
    if (this.#failure !== undefined) throw this.#failure
  }

  /**
   * One turn of the loop: a step, then `#afterStep`. Each turn starts the next from a
   * callback — a chain of turns rather than a suspended async function, and no promise returned
   * up the chain, so none accumulates.
   */
  #turn(): void {
    this.#wake = undefined
    if (this.#closed) return this.#end()
    let step: Promise<TaskStatus | undefined>
    try {
      // One controller for as long as nothing aborts it: a step is cheap, a signal is not.
      // The controller's own step controller when it has one: one AbortController per task, not two.
      const op = this.#op !== undefined && !this.#op.signal.aborted ? this.#op : (this.#init.controller.stepController?.() ?? new AbortController())
      this.#op = op
      this.#dirty = false
      if (this.#ctx?.signal !== op.signal) this.#ctx = new StepContext(this.#init, op.signal, this.#logger)
      step = doStep(this.#task, this.#init.controller, this.#ctx)
    } catch (err) {
      return this.#end(err instanceof Error ? err : new Error(String(err)))
    }
    step.then(
      (status) => this.#afterStep(status),
      (err: unknown) => {
        if (!this.#closed && this.#op?.signal.aborted !== true) this.#logger.error('task manager: step failed', { err: String(err) })
        this.#afterStep(undefined)
      },
    )
  }

  /** After a step: report its status and go on, go on at once (aborted or changed), or idle until woken. */
  #afterStep(status: TaskStatus | undefined): void {
    if (this.#closed) return this.#end()
    if (status !== undefined) {
      this.#task = { ...this.#task, status }
      this.#init.report(status).then(
        () => this.#turn(),
        (err: Error) => this.#end(err),
      )
      return
    }
    if (this.#op?.signal.aborted === true || this.#dirty) return this.#turn()
    // Woken by update() or close(): the next turn runs in a microtask, not inside them.
    this.#wake = () => {
      this.#wake = undefined
      queueMicrotask(() => this.#turn())
    }
  }

  /** Ends the loop (with the error of a failed report, which `close()` then throws). */
  #end(err?: Error): void {
    if (!this.#running) return
    this.#running = false
    this.#failure = err
    const onEnd = this.#onEnd
    this.#onEnd = undefined
    onEnd?.()
  }
}

/**
 * doStep's context for one step signal: a temporary error is reported (same state, `err` set)
 * while doStep retries it — a method of this object rather than a closure per task manager.
 */
class StepContext implements DoStepContext {
  readonly #init: TaskManagerInit
  readonly signal: AbortSignal
  readonly logger: Logger

  constructor(init: TaskManagerInit, signal: AbortSignal, logger: Logger) {
    this.#init = init
    this.signal = signal
    this.logger = logger
  }

  get clock(): Clock {
    return this.#init.clock
  }

  onRetry(retrying: TaskStatus): void {
    void this.#init.report(retrying)
  }
}
