/**
 * `@swarmkit-ts/core/testing`: the cluster simulator ({@link simulateCluster}, the same as
 * `Cluster.simulate`) and its types, for embedders' tests. Needs `@swarmkit-ts/testkit` (a
 * dependency of core).
 *
 * @packageDocumentation
 */
export * from './simulate/index.ts'
