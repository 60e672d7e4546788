import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeRaftStorageCompliance } from '@swarmkit-ts/raft/compliance'
import { FileRaftStorage } from '../src/index.ts'

describeRaftStorageCompliance({
  name: 'FileRaftStorage',
  create: async () => FileRaftStorage.open(await mkdtemp(join(tmpdir(), 'raft-storage-compliance-'))),
  destroy: async (s) => {
    await s.close()
    await rm(s.dir, { recursive: true, force: true })
  },
})
