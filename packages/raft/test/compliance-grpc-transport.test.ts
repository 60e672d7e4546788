import { describeRaftTransportCompliance } from '@swarmkit-ts/raft/compliance'
import { GrpcRaftTransport } from '../src/grpc.ts'

describeRaftTransportCompliance({
  name: 'GrpcRaftTransport',
  create: (id) => new GrpcRaftTransport({ id, listenAddress: '127.0.0.1:0', maxMessageBytes: 64 * 1024, backoff: { initialMs: 20, maxMs: 200 } }),
  address: (t) => t.address,
})
