import fc from 'fast-check'
import type { Cluster, Config, EncryptionKey, Extension, Resource, ClusterRootCA, Secret } from '@swarmkit-ts/api'
import { arbClusterSpec } from './cluster-spec.ts'
import { arbConfigSpec, arbSecretSpec } from './secret-config-spec.ts'
import {
  arbAnnotations,
  arbBytes,
  arbId,
  arbIpv4Cidr,
  arbMeta,
  arbNat,
  arbText,
  arbTimestamp,
  arbUint64,
  arbWord,
  charsOf,
  items,
  rec,
} from './primitives.ts'

const HEX = '0123456789abcdef'.split('')

function arbJoinToken(): fc.Arbitrary<string> {
  const base36 = '0123456789abcdefghijklmnopqrstuvwxyz'.split('')
  return fc.tuple(charsOf(base36, 50, 50), charsOf(base36, 25, 25)).map(([digest, secret]) => `SWMTKN-1-${digest}-${secret}`)
}

function arbClusterRootCA(): fc.Arbitrary<ClusterRootCA> {
  return rec<ClusterRootCA>(
    {
      caKey: arbBytes(),
      caCert: arbBytes(),
      caCertHash: charsOf(HEX, 64, 64),
      joinTokens: fc.tuple(arbJoinToken(), arbJoinToken()).map(([worker, manager]) => ({ worker, manager })),
      rootRotation: rec<NonNullable<ClusterRootCA['rootRotation']>>({ caCert: arbBytes(), caKey: arbBytes(), crossSignedCaCert: arbBytes() }, ['caCert', 'crossSignedCaCert']),
      lastForcedRotation: arbNat(),
    },
    ['caCert', 'caCertHash', 'joinTokens'],
  )
}

/** A valid {@link EncryptionKey} with a uint64 Lamport time biased to the extremes. */
export function arbEncryptionKey(): fc.Arbitrary<EncryptionKey> {
  return rec<EncryptionKey>(
    {
      subsystem: fc.constantFrom('networking:gossip', 'networking:ipsec'),
      algorithm: fc.constant('aes_128_gcm'),
      key: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new Uint8Array(b)),
      lamportTime: arbUint64(),
    },
    ['subsystem', 'algorithm', 'key', 'lamportTime'],
  )
}

/** A valid {@link Cluster}. */
export function arbCluster(): fc.Arbitrary<Cluster> {
  return rec<Cluster>(
    {
      id: arbId(),
      meta: arbMeta(),
      spec: arbClusterSpec(),
      rootCa: arbClusterRootCA(),
      networkBootstrapKeys: items(arbEncryptionKey()),
      encryptionKeyLamportClock: arbUint64(),
      blacklistedCertificates: fc.dictionary(arbId(), rec<{ expiry?: number }>({ expiry: arbTimestamp() }, []), {
        minKeys: 1,
        maxKeys: 3,
        noNullPrototype: true,
      }),
      unlockKeys: items(fc.tuple(fc.constant('manager'), arbBytes()).map(([subsystem, key]) => ({ subsystem, key }))),
      fips: fc.boolean(),
      defaultAddressPool: items(arbIpv4Cidr()),
      subnetSize: fc.integer({ min: 1, max: 32 }),
      vxlanUdpPort: fc.integer({ min: 1, max: 65535 }),
    },
    ['id', 'meta', 'spec', 'rootCa'],
  )
}

/** A valid {@link Secret}. */
export function arbSecret(): fc.Arbitrary<Secret> {
  return rec<Secret>({ id: arbId(), meta: arbMeta(), spec: arbSecretSpec(), internal: fc.boolean() }, ['id', 'meta', 'spec'])
}

/** A valid {@link Config}. */
export function arbConfig(): fc.Arbitrary<Config> {
  return rec<Config>({ id: arbId(), meta: arbMeta(), spec: arbConfigSpec() }, ['id', 'meta', 'spec'])
}

/** A valid {@link Extension}. */
export function arbExtension(): fc.Arbitrary<Extension> {
  return rec<Extension>({ id: arbId(), meta: arbMeta(), annotations: arbAnnotations(), description: arbText() }, ['id', 'meta', 'annotations'])
}

/** A valid {@link Resource} of an extension kind, with an optional `Any`-style payload. */
export function arbResource(): fc.Arbitrary<Resource> {
  return rec<Resource>(
    {
      id: arbId(),
      meta: arbMeta(),
      annotations: arbAnnotations(),
      kind: arbWord(),
      payload: fc.tuple(arbWord(), arbBytes()).map(([t, value]) => ({ typeUrl: `type.googleapis.com/example.${t}`, value })),
    },
    ['id', 'meta', 'annotations', 'kind'],
  )
}
