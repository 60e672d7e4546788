/**
 * `@swarmkit-ts/agent`: the worker side of a swarmkit-ts cluster. It keeps a session with the
 * managers through `DispatcherApi` (from `@swarmkit-ts/api`), receives its assignments, runs each
 * task on a `ContainerRuntime` through a controller that walks the task's states, reports every
 * status back, and keeps its tasks in a database in its state directory so that a restarted
 * worker adopts its running containers instead of starting them again.
 *
 * @packageDocumentation
 */
export * from './exec/index.ts'
export * from './worker/index.ts'
