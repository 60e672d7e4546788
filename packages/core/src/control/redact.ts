/**
 * What the control API never hands out, as SwarmKit's controlapi redacts it: a secret's data, and
 * the cluster's private keys (root CA key, signing CA key and certificate of the spec, network
 * bootstrap keys, unlock keys).
 *
 * @module
 */
import type { Cluster, Secret } from '@swarmkit-ts/api'
import type { Frozen, WatchEvent } from '@swarmkit-ts/store'

/** The secret without its data (`spec.data` empty). */
export function redactSecret(s: Frozen<Secret>): Frozen<Secret> {
  return Object.freeze({ ...s, spec: Object.freeze({ ...s.spec, data: new Uint8Array() }) })
}

/** The cluster without private keys. */
export function redactCluster(c: Frozen<Cluster>): Frozen<Cluster> {
  const { caKey: _caKey, rootRotation, ...rootCa } = c.rootCa
  const redactedRootCa: Frozen<Cluster['rootCa']> =
    rootRotation === undefined
      ? rootCa
      : { ...rootCa, rootRotation: { caCert: rootRotation.caCert, crossSignedCaCert: rootRotation.crossSignedCaCert } }
  const { networkBootstrapKeys: _nbk, unlockKeys: _uk, encryptionKeyLamportClock: _lc, ...rest } = c
  let spec = c.spec
  if (spec.caConfig !== undefined) {
    const { signingCaCert: _cert, signingCaKey: _key, ...caConfig } = spec.caConfig
    spec = { ...spec, caConfig }
  }
  return Object.freeze({ ...rest, spec, rootCa: redactedRootCa })
}

/** A watch event with its objects redacted as {@link redactSecret} and {@link redactCluster} do. */
export function redactEvent(ev: WatchEvent): WatchEvent {
  if (ev.action === 'commit') return ev
  switch (ev.kind) {
    case 'secret':
      return ev.action === 'update'
        ? { ...ev, object: redactSecret(ev.object), ...(ev.oldObject === undefined ? {} : { oldObject: redactSecret(ev.oldObject) }) }
        : { ...ev, object: redactSecret(ev.object) }
    case 'cluster':
      return ev.action === 'update'
        ? { ...ev, object: redactCluster(ev.object), ...(ev.oldObject === undefined ? {} : { oldObject: redactCluster(ev.oldObject) }) }
        : { ...ev, object: redactCluster(ev.object) }
    default:
      return ev
  }
}
