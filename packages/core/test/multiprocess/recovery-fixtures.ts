/**
 * Fixtures of the operations scenarios (force-new-cluster, a lost manager, backup and restore):
 * three managers ready and reachable, a manager's join tokens read through its control socket,
 * and the managers as the node list shows them. Built on processes.ts.
 */
import { cp } from 'node:fs/promises'
import { NodeState } from '@swarmkit-ts/api'
import { controlOf, settled, until, type ProcessRig, type TestNode } from './processes.ts'

/** Waits until every node of `managers` is READY and reachable as `via` sees it. */
export async function managersReady(via: TestNode, managers: readonly TestNode[], what: string): Promise<void> {
  await until(async () => {
    const nodes = await controlOf(via).nodes.list({ roles: ['manager'] })
    return managers.every((m) => {
      const n = nodes.find((x) => x.id === m.ready.nodeId)
      return n !== undefined && n.status.state === NodeState.READY && n.managerStatus?.reachability === 'reachable'
    })
  }, what, 120_000)
}

/** Gives `node` (a reopened manager, whose ready line has none) the cluster's join tokens, so `rig.join` can use it. */
export async function withTokens(node: TestNode): Promise<TestNode> {
  const tokens = await settled(() => controlOf(node).joinTokens())
  node.ready = { ...node.ready, tokens: { manager: tokens.manager, worker: tokens.worker } }
  return node
}

/** The ids of the nodes `via` lists as managers with a Raft member it reaches, sorted. */
export async function reachableManagers(via: TestNode): Promise<string[]> {
  const nodes = await controlOf(via).nodes.list({ roles: ['manager'] })
  return nodes.filter((n) => n.managerStatus?.reachability === 'reachable').map((n) => n.id).sort()
}

/** A copy of `from` in a fresh directory of the rig (what `cp -a` of a stopped manager's state directory gives). */
export async function copyStateDir(rig: ProcessRig, from: string): Promise<string> {
  const to = await rig.newStateDir()
  // Sockets are not data: the control socket is made again on open.
  await cp(from, to, { recursive: true, preserveTimestamps: true, filter: (src) => !src.endsWith('.sock') })
  return to
}
