/** The private test dockerd for the worker node's Docker tests (see scripts/test-support/test-docker.ts). */
import { dockerSkipReason as skipReason } from '../../../../scripts/test-support/test-docker.ts'

export { startDocker, stopDocker } from '../../../../scripts/test-support/test-docker.ts'
export type { TestDocker } from '../../../../scripts/test-support/test-docker.ts'

/** Why the worker node's Docker suite cannot run here, or undefined when it can. */
export const dockerSkipReason = (): string | undefined => skipReason('[core] docker worker node tests')
