/**
 * The first write of a simulated cluster, as `ManagerNode.init` makes it: the cluster object
 * (default spec, a stand-in root CA's hash and join tokens) and a Node per manager. The managers
 * are drained: in a simulation they run no tasks (the workers do).
 *
 * @module
 */
import { generateId, withClusterDefaults } from '@swarmkit-ts/api'
import type { Random } from '@swarmkit-ts/api'
import { generateJoinToken, joinTokenDigest } from '@swarmkit-ts/pki'
import type { MemoryStore } from '@swarmkit-ts/store'
import type { SimManager } from './sim-manager.ts'

/** What {@link writeClusterObjects} writes about. */
export interface ClusterObjectsInit {
  readonly managers: readonly SimManager[]
  /** The manager that leads (its Node says so). */
  readonly leader: SimManager
  readonly random: Random
  readonly seed: number
}

/** Writes the cluster object and the managers' Nodes on the leader's `store`. */
export async function writeClusterObjects(store: MemoryStore, init: ClusterObjectsInit): Promise<void> {
  const { managers, leader, random, seed } = init
  // The "root CA" is a stand-in: no certificate crosses an in-process link.
  const trust = `simulated root CA of seed ${seed}`
  const clusterId = generateId(random)
  const joinTokens = { worker: generateJoinToken(trust, random), manager: generateJoinToken(trust, random) }
  await store.update((tx) => {
    tx.clusters.create({
      id: clusterId,
      spec: withClusterDefaults({ annotations: { name: 'default' } }),
      rootCa: { caCert: new TextEncoder().encode(trust), caCertHash: joinTokenDigest(trust), joinTokens },
    })
    for (const m of managers) {
      tx.nodes.create({
        id: m.nodeId,
        spec: { annotations: { name: '' }, desiredRole: 'manager', membership: 'accepted', availability: 'drain' },
        role: 'manager',
        description: { hostname: m.hostname },
        status: { state: 'unknown' },
        managerStatus: { raftId: m.raftId, addr: m.addr, leader: m === leader, reachability: 'reachable' },
      })
    }
  })
}
