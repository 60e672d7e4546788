/**
 * The one place the service commands wait for a change to converge (`--detach` skips it): part
 * C's converge display, `showProgress`.
 *
 * @module
 */
import type { CommandContext } from '../context.ts'
import { showProgress, type ProgressKind } from '../progress/index.ts'

/** Which command started the change. */
export type WaitKind = ProgressKind

/**
 * Shows the converge display of service `serviceId` until it converged (or `ctx.signal` aborts:
 * the change goes on in the background). Rejects as `showProgress` does when the change did not
 * take (paused, rolled back after a failure, removed).
 */
export async function waitForService(ctx: CommandContext, serviceId: string, options: { readonly kind: WaitKind }): Promise<void> {
  await showProgress(ctx, serviceId, options)
}
