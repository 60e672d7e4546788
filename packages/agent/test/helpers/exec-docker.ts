/** The private test dockerd for the executor's Docker tests (see scripts/test-support/test-docker.ts). */
import { dockerSkipReason as skipReason } from '../../../../scripts/test-support/test-docker.ts'

export { startDocker, stopDocker } from '../../../../scripts/test-support/test-docker.ts'
export type { TestDocker } from '../../../../scripts/test-support/test-docker.ts'

/** Why the executor's Docker suite cannot run here, or undefined when it can. */
export const dockerSkipReason = (): string | undefined => skipReason('[agent] executor docker tests')
