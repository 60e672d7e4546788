/**
 * Compliance suites for the contracts of `@swarmkit-ts/raft`: `RaftStorage` (with its `RaftLog`
 * writer) and `RaftTransport`. One call registers vitest tests that check every obligation of the
 * contract against an implementation — ours run them, and so should an embedder's.
 *
 * ```ts
 * import { describeRaftStorageCompliance, describeRaftTransportCompliance } from '@swarmkit-ts/raft/compliance'
 * import { MemoryRaftStorage } from '@swarmkit-ts/raft'
 * import { GrpcRaftTransport } from '@swarmkit-ts/raft/grpc'
 *
 * describeRaftStorageCompliance({ name: 'MemoryRaftStorage', create: () => new MemoryRaftStorage() })
 * describeRaftTransportCompliance({
 *   name: 'GrpcRaftTransport',
 *   create: (id) => new GrpcRaftTransport({ id, listenAddress: '127.0.0.1:0', maxMessageBytes: 64 * 1024 }),
 *   address: (t) => t.address,
 * })
 * ```
 *
 * `vitest` is an optional peer dependency: only this entry point imports it.
 *
 * @packageDocumentation
 */
export { describeRaftStorageCompliance } from './storage.ts'
export type { RaftStorageComplianceOptions } from './storage.ts'
export { describeRaftTransportCompliance } from './transport.ts'
export type { RaftTransportComplianceOptions } from './transport.ts'
