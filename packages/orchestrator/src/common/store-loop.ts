/**
 * The event loop every reconciler runs on lives in the store package (the network allocator and
 * the resolver use it too); re-exported here where the orchestrator's loops import it.
 *
 * @module
 */
export { StoreLoop, LOOP_QUEUE_LIMIT } from '@swarmkit-ts/store'
export type { StoreLoopHandlers, StoreLoopContext } from '@swarmkit-ts/store'
