/**
 * The worker: task manager, task database, status reporter, session with the managers (issue 17).
 *
 * @module
 */
export { Agent, nextSessionBackoff, isSessionInvalid, SESSION_BACKOFF_MIN_MS, SESSION_BACKOFF_MAX_MS, DEFAULT_RPC_TIMEOUT_MS, DEFAULT_DESCRIPTION_CHECK_MS, DEFAULT_HEARTBEAT_PERIOD_MS } from './agent.ts'
export type { AgentInit, AgentStatus, DispatcherConnector } from './agent.ts'
export { Worker } from './worker.ts'
export type { WorkerInit, TaskExecutor } from './worker.ts'
export { TaskManager, mergeAssignedTask } from './task-manager.ts'
export type { TaskManagerInit } from './task-manager.ts'
export { StatusReporter, isOlderStatus } from './reporter.ts'
export type { StatusReporterInit, StatusSender } from './reporter.ts'
export { FileTaskDb, MemoryTaskDb, encodeTaskDbEntry, decodeTaskDbEntry } from './task-db.ts'
export type { TaskDb, TaskDbEntry, FileTaskDbOptions } from './task-db.ts'
export { ManagerList } from './manager-list.ts'
