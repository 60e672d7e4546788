/**
 * `@swarmkit-ts/core/testing`: the cluster simulator ({@link simulateCluster}, the same as
 * `Cluster.simulate`) and its types, for embedders' tests; and the property-test harness on it
 * ({@link checkClusterInvariants}, the arbitraries of operations and faults,
 * {@link runClusterProperty}), which needs `fast-check` (an optional peer dependency). Needs
 * `@swarmkit-ts/testkit` (a dependency of core).
 *
 * @packageDocumentation
 */
export * from './simulate/index.ts'
export * from './simulate/harness/index.ts'
