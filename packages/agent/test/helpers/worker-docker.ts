/** The private test dockerd for the worker's Docker tests (see scripts/test-support/test-docker.ts). */
import { dockerSkipReason as skipReason } from '../../../../scripts/test-support/test-docker.ts'

export { startDocker, stopDocker } from '../../../../scripts/test-support/test-docker.ts'
export type { TestDocker } from '../../../../scripts/test-support/test-docker.ts'

/** Why the worker's Docker suite cannot run here, or undefined when it can. */
export const dockerSkipReason = (): string | undefined => skipReason('[agent] docker worker tests')
