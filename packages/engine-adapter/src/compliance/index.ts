/**
 * The `ContainerRuntime` compliance suite: one call registers vitest tests that check every
 * obligation of the contract against a runtime.
 *
 * ```ts
 * import { describeContainerRuntimeCompliance } from '@swarmkit-ts/engine-adapter/compliance'
 * describeContainerRuntimeCompliance({
 *   name: 'MyRuntime',
 *   setup: async () => ({ runtime: new MyRuntime(), image: 'local/busybox:test' }),
 *   teardown: async ({ runtime }) => { await runtime.close() },
 *   capabilities: { memoryLimit: true, cpuLimit: true, healthcheck: true, ports: true },
 * })
 * ```
 * @packageDocumentation
 */
import { describe } from 'vitest'
import { featureTests } from './feature-tests.ts'
import type { ContainerRuntime } from '../runtime.ts'
import { Harness, type ComplianceOptions } from './harness.ts'
import { lifecycleTests } from './lifecycle-tests.ts'
import { logsEventsTests } from './logs-events-tests.ts'
import { specTests } from './spec-tests.ts'

export type { ComplianceOptions, ComplianceTarget } from './harness.ts'
export { RUN_LABEL, TEST_LABEL, LOOP_UNTIL_TERM } from './harness.ts'

/**
 * Registers the compliance suite for a runtime (call it at the top level of a vitest test file).
 *
 * The runtime is set up once; each test labels its containers with {@link RUN_LABEL} and
 * {@link TEST_LABEL} and removes them afterwards. The image is the busybox test image. Features the
 * runtime does not declare in `capabilities` are checked to be refused with `InvalidArgumentError`.
 */
export function describeContainerRuntimeCompliance<R extends ContainerRuntime>(options: ComplianceOptions<R>): void {
  describe(`ContainerRuntime compliance: ${options.name ?? 'runtime'}`, () => {
    // The sections only use the ContainerRuntime contract; `R` matters to the caller's teardown only.
    const h = new Harness(options as unknown as ComplianceOptions)
    lifecycleTests(h)
    specTests(h)
    logsEventsTests(h)
    featureTests(h)
  })
}
