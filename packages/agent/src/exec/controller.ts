/**
 * The seam between the worker and an executor: a {@link TaskController} per task (SwarmKit's
 * `exec.Controller`), and the {@link TaskDependencies} a controller may look up.
 */
import type { Config, ContainerStatus, PortStatus, Secret, Task } from '@swarmkit-ts/api'

/**
 * What a controller can look up: the secrets and configs assigned to the node (held in memory
 * only; the worker keeps them current from its assignments).
 */
export interface TaskDependencies {
  /** The secret with this id, when assigned to the node. */
  secret(id: string): Secret | undefined
  /** The config with this id, when assigned to the node. */
  config(id: string): Config | undefined
}

/**
 * Runs one task on an engine (SwarmKit's `exec.Controller`). `doStep` calls one method per step;
 * the caller (the worker's task manager) calls them one at a time, and aborts a step's `signal`
 * when the task changed so that the next step sees the new desired state.
 *
 * Every method is idempotent over restarts: a controller made for a task whose container already
 * exists (found by its `com.docker.swarm.task.id` label) adopts it instead of creating another.
 * After {@link TaskController.close} every method rejects with `ControllerClosedError`.
 */
export interface TaskController {
  /** Gives the controller the latest version of its task (same id; e.g. a new desired state). */
  update(task: Task): void
  /**
   * Makes the task ready to start: maps the spec, makes the image available (a pull error is only
   * logged: `create` then reports a missing image), creates the container. Resolves at once when
   * the task's container already exists (adopted). Rejects with `InvalidArgumentError` naming the
   * field for a spec the runtime cannot honour, `NotFoundError` for a missing secret or config,
   * `ImageNotFoundError` for a missing image.
   */
  prepare(signal: AbortSignal): Promise<void>
  /**
   * Starts the container; a no-op when it has been started before (running or exited). With a
   * healthcheck it resolves only once the container is healthy; unhealthy → the container is shut
   * down and this rejects with `TaskExitError` (cause `ContainerUnhealthyError`); exiting before
   * healthy resolves on exit 0 and rejects with `TaskExitError` otherwise.
   */
  start(signal: AbortSignal): Promise<void>
  /**
   * Resolves once the container exited with code 0; rejects with `TaskExitError(exitCode)`
   * otherwise (cause `ContainerUnhealthyError` when it was shut down for being unhealthy while
   * running). Aborting `signal` stops waiting; the container is untouched.
   */
  wait(signal: AbortSignal): Promise<void>
  /**
   * Stops the container: SIGTERM, then SIGKILL after the task's stop grace period
   * (`spec.container.stopGracePeriodMs`, default 10 s). A no-op when there is no container or it
   * is not running.
   */
  shutdown(signal: AbortSignal): Promise<void>
  /** Kills the container at once (SIGKILL); a no-op when there is none. */
  terminate(): Promise<void>
  /** Shuts down (errors only logged) and removes the container and everything the runtime holds for it. */
  remove(): Promise<void>
  /** Releases the controller (aborts its pending calls); the container is left as it is. */
  close(): void
  /** The container's id and exit code as last observed, or undefined before it was created or found. */
  containerStatus(): ContainerStatus | undefined
  /** Where the task's published ports are reachable once it runs (SwarmKit's `PortStatuser`); optional. */
  portStatus?(): PortStatus | undefined
  /**
   * Optional: a new controller for the caller's steps, aborted by the caller (e.g. when the task
   * changed) and by {@link TaskController.close}. A caller that passes its signal to every method
   * spares the controller a signal of its own linked to the caller's (an AbortSignal costs ~0.8 KB
   * of heap: the task manager holds one per task). Each call replaces the previous one.
   */
  stepController?(): AbortController
}
