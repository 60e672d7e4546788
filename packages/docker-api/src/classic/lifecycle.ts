/**
 * A classic container's lifecycle on its service: start (0 → 1 replica, or a forced update when
 * its task ended), stop (1 → 0 replicas, waiting for the task to end, then keeping its exit in the
 * service's labels since a removed slot's task is deleted), wait, and `--rm`'s removal.
 *
 * Waits read this manager's own replicated store (a follower's store follows the leader's).
 *
 * @module
 */
import { NotFoundError, SequenceConflictError, TaskState } from '@swarmkit-ts/api'
import type { Service, ServiceSpec, Task } from '@swarmkit-ts/api'
import type { Frozen, MemoryStore } from '@swarmkit-ts/store'
import type { DockerApiManager } from '../context.ts'
import { DockerApiError } from '../errors.ts'
import {
  CLASSIC_AUTO_REMOVE_LABEL,
  CLASSIC_EXIT_CODE_LABEL,
  CLASSIC_FINISHED_AT_LABEL,
  CLASSIC_NODE_LABEL,
  CLASSIC_STARTED_AT_LABEL,
} from '../translate/classic-create.ts'
import { classicReplicas, classicState, newestFirst, taskExitCode, type ClassicState } from '../translate/classic-state.ts'
import { dockerTime } from '../translate/meta.ts'
import { isClassic } from './containers.ts'

const EXIT_LABELS = [CLASSIC_EXIT_CODE_LABEL, CLASSIC_FINISHED_AT_LABEL, CLASSIC_STARTED_AT_LABEL, CLASSIC_NODE_LABEL]

/** What the local store holds of one container. */
export interface LocalView {
  readonly service: Frozen<Service> | undefined
  readonly tasks: readonly Frozen<Task>[]
}

function localView(store: MemoryStore, serviceId: string): LocalView {
  return store.view((tx) => ({ service: tx.services.get(serviceId), tasks: tx.tasks.find({ serviceId }) }))
}

/**
 * Resolves with the first non-undefined `check` of the container's local view, re-checked at each
 * change of the service or its tasks; rejects when `signal` aborts first.
 */
export async function observe<T>(store: MemoryStore, serviceId: string, check: (view: LocalView) => T | undefined, signal: AbortSignal): Promise<T> {
  const { result, watch } = store.viewAndWatch(
    (tx) => ({ service: tx.services.get(serviceId), tasks: tx.tasks.find({ serviceId }) }),
    { kinds: ['task', 'service'], actions: ['create', 'update', 'delete'], where: (ev) => (ev.kind === 'task' ? ev.object.serviceId === serviceId : ev.object.id === serviceId) },
    { signal },
  )
  try {
    const first = check(result)
    if (first !== undefined) return first
    for await (const ev of watch) {
      void ev
      const v = check(localView(store, serviceId))
      if (v !== undefined) return v
    }
    signal.throwIfAborted()
    throw new Error(`the watch of container ${serviceId} ended`)
  } finally {
    watch.close()
  }
}

/** Replaces the spec of `service` from its latest version, retrying past concurrent writes. */
export async function editService(manager: DockerApiManager, id: string, change: (spec: Frozen<ServiceSpec>) => ServiceSpec): Promise<Frozen<Service>> {
  for (let attempt = 0; ; attempt++) {
    const current = await manager.services.get(id)
    try {
      return await manager.services.update(id, change(current.spec), { version: current.meta.version.index })
    } catch (err) {
      if (!(err instanceof SequenceConflictError) || attempt >= 5) throw err
    }
  }
}

function withoutExit(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(labels ?? {})) if (!EXIT_LABELS.includes(k)) out[k] = v
  return out
}

/** Starts a container that is not running: false when it already runs (Docker's 304). */
export async function startContainer(manager: DockerApiManager, service: Frozen<Service>, state: ClassicState): Promise<boolean> {
  if (state.running || state.status === 'restarting' || (state.status === 'created' && classicReplicas(service) > 0)) return false
  const replicas = classicReplicas(service)
  await editService(manager, service.id, (spec) => ({
    ...spec,
    annotations: { ...spec.annotations, labels: withoutExit(spec.annotations.labels) },
    mode: { replicated: { replicas: 1 } },
    // A slot whose task ended for good is run again by a forced update of its task.
    task: replicas > 0 ? { ...spec.task, forceUpdate: (spec.task.forceUpdate ?? 0) + 1 } : spec.task,
  }))
  return true
}

/** The newest task that ended among `tasks`, if any. */
function endedTask(tasks: readonly Frozen<Task>[]): Frozen<Task> | undefined {
  return newestFirst(tasks).find((t) => t.status.state >= TaskState.COMPLETE)
}

/**
 * Stops a running container: scales it to 0, waits (under `signal`) for its task to end, and keeps
 * the task's exit in the service's labels. False when it was not running (Docker's 304).
 */
export async function stopContainer(manager: DockerApiManager, service: Frozen<Service>, state: ClassicState, signal: AbortSignal): Promise<boolean> {
  if (!state.running && state.status !== 'restarting') return false
  const store = manager.manager.store
  const running = state.task
  let last: Frozen<Task> | undefined
  const ended = observe(
    store,
    service.id,
    (view) => {
      const live = view.tasks.filter((t) => t.status.state < TaskState.COMPLETE)
      last = endedTask(view.tasks) ?? last
      return live.length === 0 && (view.service === undefined || classicReplicas(view.service) === 0) ? true : undefined
    },
    signal,
  )
  ended.catch(() => undefined)
  await editService(manager, service.id, (spec) => ({ ...spec, mode: { replicated: { replicas: 0 } } }))
  await ended.catch((err: unknown) => {
    if (signal.reason instanceof Error && signal.reason.name === 'TimeoutError') {
      throw new DockerApiError(500, `container ${service.spec.annotations.name} is stopping but its task has not reported its end in time (is its node down?)`)
    }
    throw err
  })
  const task = last ?? running
  const exitCode = last === undefined ? 0 : taskExitCode(last)
  await editService(manager, service.id, (spec) => ({
    ...spec,
    annotations: {
      ...spec.annotations,
      labels: {
        ...withoutExit(spec.annotations.labels),
        [CLASSIC_EXIT_CODE_LABEL]: String(exitCode),
        [CLASSIC_FINISHED_AT_LABEL]: dockerTime(last?.status.timestamp ?? Date.now()),
        [CLASSIC_STARTED_AT_LABEL]: state.startedAt,
        ...(task === undefined || task.nodeId === '' ? {} : { [CLASSIC_NODE_LABEL]: task.nodeId }),
      },
    },
  })).catch((err: unknown) => {
    if (!(err instanceof Error && err.name === NotFoundError.name)) throw err
  })
  return true
}

/** Docker's `wait` conditions. */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed'

/**
 * Waits until the container is not running (`not-running`, at once if it is not), until its
 * current or next run ends (`next-exit`), or until it is removed (`removed`); resolves with the
 * exit code.
 */
export async function waitContainer(manager: DockerApiManager, serviceId: string, condition: WaitCondition, signal: AbortSignal): Promise<number> {
  let seenRunning = false
  let lastCode = 0
  return observe(
    manager.manager.store,
    serviceId,
    (view): number | undefined => {
      if (view.service === undefined) return condition === 'removed' || seenRunning || condition === 'not-running' ? lastCode : undefined
      const state = classicState(view.service, view.tasks)
      const active = state.running || state.status === 'restarting' || (state.status === 'created' && classicReplicas(view.service) > 0)
      if (!active) lastCode = state.exitCode
      if (active) seenRunning = true
      if (condition === 'removed') return undefined
      if (condition === 'not-running') return active ? undefined : state.exitCode
      return seenRunning && !active ? state.exitCode : undefined
    },
    signal,
  )
}

/**
 * Removes containers created with `--rm` once they end for good, for as long as `signal` lasts
 * (watching this manager's store). Removal is idempotent across managers.
 */
export async function autoRemove(manager: DockerApiManager, signal: AbortSignal): Promise<void> {
  const store = manager.manager.store
  const check = async (serviceId: string): Promise<void> => {
    const view = localView(store, serviceId)
    const s = view.service
    if (s === undefined || !isClassic(s) || s.spec.annotations.labels?.[CLASSIC_AUTO_REMOVE_LABEL] !== 'true') return
    const state = classicState(s, view.tasks)
    const ended = state.status === 'exited' || state.status === 'dead'
    if (!ended || classicReplicas(s) === 0 || s.spec.task.restart?.condition === 'any') return
    await manager.services.remove(s.id).catch(() => undefined)
  }
  for (;;) {
    const watch = store.watch(
      {
        kinds: ['task', 'service'],
        actions: ['create', 'update'],
        where: (ev) => (ev.kind === 'task' ? ev.object.serviceAnnotations : ev.object.spec.annotations).labels?.[CLASSIC_AUTO_REMOVE_LABEL] === 'true',
      },
      { signal },
    )
    try {
      for await (const ev of watch) {
        if (ev.action === 'commit') continue
        await check(ev.kind === 'task' ? ev.object.serviceId : ev.object.id)
      }
    } catch {
      // A watch that overflowed: watch again (a missed end is caught at the service's next change).
    } finally {
      watch.close()
    }
    if (signal.aborted) return
  }
}
