import { GrpcStatus, SwarmkitError, toGrpcStatus } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import * as raft from '../src/index.ts'

/** Every error class raft exports, with the gRPC status its docs promise and an instance. */
const documented: Record<string, { code: GrpcStatus; make: () => Error }> = {
  CompactedError: { code: GrpcStatus.OUT_OF_RANGE, make: () => new raft.CompactedError(3) },
  EntryUnavailableError: { code: GrpcStatus.OUT_OF_RANGE, make: () => new raft.EntryUnavailableError(9) },
  SnapshotTemporarilyUnavailableError: { code: GrpcStatus.UNAVAILABLE, make: () => new raft.SnapshotTemporarilyUnavailableError() },
  SnapshotOutOfDateError: { code: GrpcStatus.FAILED_PRECONDITION, make: () => new raft.SnapshotOutOfDateError(2, 5) },
  ProposalDroppedError: { code: GrpcStatus.UNAVAILABLE, make: () => new raft.ProposalDroppedError('no-leader') },
  ProposalTooLargeError: { code: GrpcStatus.INVALID_ARGUMENT, make: () => new raft.ProposalTooLargeError('payload', 200, 100, 1024) },
  StepLocalMessageError: { code: GrpcStatus.INVALID_ARGUMENT, make: () => new raft.StepLocalMessageError('unreachable') },
  RaftInvariantError: { code: GrpcStatus.INTERNAL, make: () => new raft.RaftInvariantError('broken') },
  ProposalOutcomeUnknownError: { code: GrpcStatus.UNKNOWN, make: () => new raft.ProposalOutcomeUnknownError() },
  LeadershipLostError: { code: GrpcStatus.ABORTED, make: () => new raft.LeadershipLostError() },
  RaftStoppedError: { code: GrpcStatus.UNAVAILABLE, make: () => new raft.RaftStoppedError() },
  MemberIdentityError: { code: GrpcStatus.FAILED_PRECONDITION, make: () => new raft.MemberIdentityError(3n, 0xabn, 0xcdn) },
  WalCorruptionError: { code: GrpcStatus.DATA_LOSS, make: () => new raft.WalCorruptionError('/d/wal-0.log', 40, 'crc mismatch') },
  SnapshotCorruptionError: { code: GrpcStatus.DATA_LOSS, make: () => new raft.SnapshotCorruptionError('/d/snap-1-2.snap', 'crc mismatch') },
  StorageDecryptionError: { code: GrpcStatus.FAILED_PRECONDITION, make: () => new raft.StorageDecryptionError('/d/wal-0.log', 8, 'k1', 'bad tag') },
}

/** The error classes among the package's exports. */
function exportedErrorClasses(): string[] {
  return Object.entries(raft)
    .filter(([, v]) => typeof v === 'function' && v.prototype instanceof Error)
    .map(([k]) => k)
    .sort()
}

describe('raft errors: one family', () => {
  it('the table above lists exactly the error classes the package exports', () => {
    expect(exportedErrorClasses()).toEqual(Object.keys(documented).sort())
  })

  it.each(Object.entries(documented))('%s is a SwarmkitError with its documented status, name and cause', (name, { code, make }) => {
    const err = make()
    expect(err).toBeInstanceOf(SwarmkitError)
    expect(err.name).toBe(name)
    expect((err as SwarmkitError).code).toBe(code)
    expect(toGrpcStatus(err)).toMatchObject({ code, metadata: { 'swarmkit-error-name': name } })
  })

  it('keeps the cause and the typed context', () => {
    const cause = new Error('ENOSPC')
    const stopped = new raft.RaftStoppedError('raft: node failed', { cause })
    expect(stopped.cause).toBe(cause)
    expect(new raft.CompactedError(7).context()).toEqual({ index: '7' })
    expect(new raft.ProposalDroppedError('uncommitted-limit').context()).toEqual({ reason: 'uncommitted-limit' })
    expect(new raft.ProposalTooLargeError('payload', 131_072, 65_000, 65_536).context()).toEqual({ field: 'payload', size: '131072', limit: '65000', maxMessageBytes: '65536' })
    expect(new raft.WalCorruptionError('/d/w.log', 12, 'crc mismatch').context()).toEqual({ file: '/d/w.log', offset: '12', reason: 'crc mismatch' })
  })
})
