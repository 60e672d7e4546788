import fc from 'fast-check'
import type { CAConfig, ClusterSpec, ExternalCA, RaftConfig } from '@swarmkit-ts/api'
import { arbAnnotations, arbDriver, arbLabels, arbNat, arbText, arbWord, items, rec } from './primitives.ts'

const HOUR_MS = 3_600_000

/** Raft settings: both ticks or neither, with `electionTick` > `heartbeatTick` ≥ 1. */
function arbRaftConfig(): fc.Arbitrary<RaftConfig> {
  const ticks = fc.option(
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 100 })).map(([hb, extra]) => ({ heartbeatTick: hb, electionTick: hb + extra })),
    { nil: undefined },
  )
  const counts = rec<Omit<RaftConfig, 'heartbeatTick' | 'electionTick'>>({ snapshotInterval: arbNat(), keepOldSnapshots: arbNat(), logEntriesForSlowFollowers: arbNat() }, [])
  return fc.tuple(counts, ticks).map(([c, t]) => (t === undefined ? c : { ...c, ...t }))
}

function arbCAConfig(): fc.Arbitrary<CAConfig> {
  const externalCa = rec<ExternalCA>(
    { protocol: fc.constant('cfssl'), url: arbWord().map((h) => `https://${h}.example:8888/sign`), options: arbLabels(), caCert: arbText() },
    ['protocol', 'url'],
  )
  return rec<CAConfig>(
    {
      nodeCertExpiryMs: fc.oneof(fc.constantFrom(HOUR_MS, 90 * 24 * HOUR_MS), fc.integer({ min: HOUR_MS, max: Number.MAX_SAFE_INTEGER })),
      externalCas: items(externalCa),
      signingCaCert: arbText(),
      signingCaKey: arbText(),
      forceRotate: arbNat(),
    },
    [],
  )
}

/** A valid {@link ClusterSpec}. */
export function arbClusterSpec(): fc.Arbitrary<ClusterSpec> {
  return rec<ClusterSpec>(
    {
      annotations: arbAnnotations(),
      orchestration: rec<NonNullable<ClusterSpec['orchestration']>>(
        {
          taskHistoryRetentionLimit: fc.oneof(fc.integer({ min: -1, max: 10 }), fc.maxSafeInteger()),
          schedulingStrategy: fc.constantFrom('spread', 'binpack'),
        },
        [],
      ),
      raft: arbRaftConfig(),
      dispatcher: rec<NonNullable<ClusterSpec['dispatcher']>>({ heartbeatPeriodMs: arbNat() }, []),
      caConfig: arbCAConfig(),
      taskDefaults: rec<NonNullable<ClusterSpec['taskDefaults']>>({ logDriver: arbDriver() }, []),
      encryptionConfig: rec<NonNullable<ClusterSpec['encryptionConfig']>>({ autoLockManagers: fc.boolean() }, []),
    },
    ['annotations'],
  )
}
