/**
 * `Cluster.simulate`: the whole cluster in one process on a virtual clock, seeded and
 * replayable, behind the handles of a manager `Cluster` (see {@link simulateCluster}).
 *
 * @module
 */
export { simulateCluster, SIMULATION_EPOCH_MS, DEFAULT_MAX_VIRTUAL_MS } from './simulated-cluster.ts'
export { LEADER_WAIT_MS } from './leader-control.ts'
export { SimulationDeadlineError } from './driver.ts'
export { SIMULATED_IMAGE } from './sim-worker.ts'
export { MAX_SIMULATED_MANAGERS } from './options.ts'
export type { SimulateOptions, SimulatedFaults } from './options.ts'
export type { SimulatedCluster, SimulatedNode, SimulatedRaftMember, SimulatedRaftStatus, RunUntilOptions } from './types.ts'
