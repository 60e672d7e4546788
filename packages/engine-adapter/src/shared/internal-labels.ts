/**
 * The labels a runtime sets on its containers for itself, and hiding them from callers.
 * @internal
 */

/** Label keys a runtime sets for itself; hidden from `ContainerInfo.labels` and events. */
export const INTERNAL_LABEL_PREFIX = 'io.swarmkit-ts.runtime.'

/** The labels without the runtime's internal ones. */
export function publicLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(labels ?? {})) if (!k.startsWith(INTERNAL_LABEL_PREFIX)) out[k] = v
  return out
}
