import { describeRaftStorageCompliance } from '@swarmkit-ts/raft/compliance'
import { MemoryRaftStorage } from '../src/index.ts'

describeRaftStorageCompliance({
  name: 'MemoryRaftStorage',
  create: () => new MemoryRaftStorage(),
})
