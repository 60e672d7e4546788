/**
 * Service and task logs: the manager's {@link LogBroker} (also as a leader component), the
 * worker's {@link LogPublisher}, and their gRPC services and clients.
 *
 * @module
 */
export type {
  LogStream,
  LogSelector,
  LogSubscriptionOptions,
  SubscribeLogsRequest,
  LogMessage,
  SubscriptionMessage,
  PublishLogsMessage,
  LogCallOptions,
  LogsApi,
  LogBrokerWorkerApi,
} from './types.ts'
export { validateSubscribeRequest, selects, wantsStream } from './selector.ts'
export type { SelectableTask } from './selector.ts'
export { LogBroker } from './log-broker.ts'
export type { LogBrokerInit } from './log-broker.ts'
export { LogBrokerComponent } from './log-broker-component.ts'
export type { LogBrokerComponentInit } from './log-broker-component.ts'
export { LogPublisher } from './log-publisher.ts'
export type { LogPublisherInit, RunningTaskContainer } from './log-publisher.ts'
export { addLogsService, addLocalLogsService, authorizeLogsCaller } from './service.ts'
export type { LogsServiceInit, LocalLogsServiceInit, LogsService, LogsAuthorizer } from './service.ts'
export { LogsClient, LogBrokerClient } from './client.ts'
export type { LogsClientInit } from './client.ts'
export { LOGS_SERVICE_NAME, LOG_BROKER_SERVICE_NAME } from './wire.ts'
export { LeaderLogsClient } from './leader-client.ts'
export type { LeaderLogsClientInit } from './leader-client.ts'
