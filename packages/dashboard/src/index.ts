/**
 * @packageDocumentation
 * `@swarmkit-ts/dashboard`: a live web view of a swarmkit-ts cluster — one column per node with
 * a card per task, the services with their rollout progress, the Raft group — served by a
 * manager (or a simulated cluster) over HTTP with Server-Sent Events. Read-only by default;
 * scale, drain and rollback behind a token with `actions: true`.
 */
export { serveDashboard, httpStatus, SECURITY_HEADERS } from './server.ts'
export type { DashboardServer } from './server.ts'
export { parseListenAddress } from './options.ts'
export type { ServeDashboardOptions } from './options.ts'
export { managerSource, simulatedSource, toDashboardSource } from './source.ts'
export type { DashboardSource, DashboardTarget, SimulatedClusterLike } from './source.ts'
export { sseFrame, parseLastEventId, eventId, SSE_RETRY_MS } from './sse.ts'
export type { StreamPosition } from './sse.ts'
export { escapeHtml } from './escape.ts'
export { DashboardEvent } from './view-model.ts'
export type { DeltaMessage, NodeView, RaftMemberView, RaftView, ServiceView, SnapshotMessage, TaskView, UpdateView } from './view-model.ts'
