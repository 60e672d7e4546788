/**
 * The converge display of `service create | update | scale | rollback`: {@link showProgress}
 * follows a service through the control API and draws Docker's display until the service has
 * converged (and stayed so for its update monitor), rolled back, or paused.
 *
 * @module
 */
import { FailedPreconditionError } from '@swarmkit-ts/api'
import type { CommandContext } from '../context.ts'
import { followProgress } from './follow.ts'
import { PlainScreen, TtyScreen } from './screen.ts'
import type { ProgressScreen } from './screen.ts'
import { ConvergeTracker, DEFAULT_MONITOR_MS } from './tracker.ts'
import type { ProgressOutcome, ProgressStep } from './tracker.ts'

export { ConvergeTracker, DEFAULT_MONITOR_MS } from './tracker.ts'
export type { ConvergeTrackerInit, ProgressOutcome, ProgressStep } from './tracker.ts'
export { PlainScreen, TtyScreen } from './screen.ts'
export type { ProgressScreen } from './screen.ts'
export { drawBar, truncError, stateName, MAX_PROGRESS_BARS } from './lines.ts'
export type { ProgressWrite, ProgressBar } from './lines.ts'
export { followProgress, FOLLOW_RETRY_MS } from './follow.ts'
export type { FollowProgressOptions } from './follow.ts'

/** The command whose result is followed (the rollback of `service rollback` is expected, not a failure). */
export type ProgressKind = 'create' | 'update' | 'scale' | 'rollback'

/** Options of {@link showProgress}. */
export interface ShowProgressOptions {
  /** Which command started the change. */
  readonly kind: ProgressKind
  /** How long the manager may stay unavailable (a leader election) before the wait fails. @default 30 000 */
  readonly retryMs?: number
}

/**
 * How a wait ended without an error: converged, or interrupted by `ctx.signal` (Ctrl-C; the
 * change goes on in the background, as Docker says).
 */
export type ShowProgressResult = { readonly kind: 'converged' } | { readonly kind: 'interrupted' }

/**
 * Follows service `serviceId` (an id or an exact name) and draws Docker's converge display on
 * `ctx.io.stdout` — redrawn in place when it is a terminal (lines cut to its `columns` when the
 * stream has them, as `process.stdout` does), a line per change otherwise, nothing
 * with `ctx.quiet` (it still waits) — until the service has converged and stayed converged for its
 * update monitor (`spec.update.monitorMs`, 5 s when unset or 0).
 *
 * Resolves `{ kind: 'converged' }` (also after `service rollback` completes), or
 * `{ kind: 'interrupted' }` when `ctx.signal` aborts first. Rejects with `FailedPreconditionError`
 * when the change did not take: reason `update-paused` (`service update paused: <why>`),
 * `rollback-paused`, `rolled-back` (the updater rolled back after a failure; except after a
 * manually requested rollback) or `service-removed`; with `NotFoundError` when there is no such
 * service; with `UnavailableError` when the manager stays unreachable for `options.retryMs`; and
 * with the control API's other errors.
 */
export async function showProgress(ctx: CommandContext, serviceId: string, options: ShowProgressOptions): Promise<ShowProgressResult> {
  const control = await ctx.control()
  const service = await control.services.get(serviceId)
  const monitor = service.spec.update?.monitorMs
  const tracker = new ConvergeTracker({ monitorMs: monitor === undefined || monitor === 0 ? DEFAULT_MONITOR_MS : monitor })
  const { columns } = ctx.io.stdout as { readonly columns?: unknown }
  const screen: ProgressScreen =
    ctx.io.stdout.isTTY === true ? new TtyScreen(typeof columns === 'number' ? { columns } : {}) : new PlainScreen()
  const draw = (step: ProgressStep): void => {
    if (ctx.quiet) return
    const text = screen.render(step.writes)
    if (text !== '') ctx.io.stdout.write(text)
  }

  const local = new AbortController()
  const onAbort = (): void => local.abort()
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  if (ctx.signal.aborted) local.abort()
  const snapshots = followProgress(control, service.id, { signal: local.signal, ...(options.retryMs === undefined ? {} : { retryMs: options.retryMs }) })
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    let next = snapshots.next()
    let wakeAt: number | undefined
    for (;;) {
      const woke = new Promise<'tick'>((resolve) => {
        if (wakeAt !== undefined) timer = setTimeout(() => resolve('tick'), Math.max(0, wakeAt - Date.now()))
      })
      const r = await Promise.race([next, woke])
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      let step: ProgressStep
      if (r === 'tick') {
        step = tracker.step(Date.now())
      } else {
        if (r.done === true) break
        next = snapshots.next()
        step = tracker.step(Date.now(), r.value)
      }
      draw(step)
      wakeAt = step.wakeAtMs
      if (step.outcome !== undefined) return settle(step.outcome, options.kind, service.id)
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer)
    ctx.signal.removeEventListener('abort', onAbort)
    local.abort()
    await snapshots.return(undefined)
  }
  // The snapshots end without an outcome only when the signal aborted.
  if (!ctx.quiet) ctx.io.stdout.write(`Operation continuing in background.\nUse \`swarmkit service ps ${service.id}\` to check progress.\n`)
  return { kind: 'interrupted' }
}

/** The result of a finished wait, or the error that says why the change did not take. */
function settle(outcome: ProgressOutcome, kind: ProgressKind, serviceId: string): ShowProgressResult {
  switch (outcome.kind) {
    case 'converged':
      if (outcome.rollback === undefined || kind === 'rollback') return { kind: 'converged' }
      throw new FailedPreconditionError(`service ${serviceId} rolled back: ${outcome.rollback}`, { reason: 'rolled-back' })
    case 'paused':
      throw new FailedPreconditionError(outcome.message, { reason: outcome.message.startsWith('service rollback') ? 'rollback-paused' : 'update-paused' })
    case 'removed':
      throw new FailedPreconditionError(`service ${serviceId} was removed`, { reason: 'service-removed' })
    default: {
      const never: never = outcome
      throw new Error(`unknown outcome ${String(never)}`)
    }
  }
}
