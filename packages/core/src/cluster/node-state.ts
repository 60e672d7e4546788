/**
 * `<stateDir>/cluster-node.json`: what `Cluster.open` needs to restart a node beside what its
 * parts keep (the manager's `manager.json`, the certificates): its role, the addresses it
 * listened and advertised on, and the managers a worker knows. Nothing secret. Written atomically
 * (temporary file, fsync, rename).
 *
 * @module
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { FailedPreconditionError, NotFoundError } from '@swarmkit-ts/api'

const FORMAT = 'swarmkit-ts/cluster-node/v1'

/** The file's name in a state directory. */
export const CLUSTER_NODE_FILE = 'cluster-node.json'

/** What the file records. */
export interface ClusterNodeState {
  /** The role the node runs as. */
  readonly role: 'manager' | 'worker'
  /** The address a manager's server was bound to (its port chosen by the OS at first). */
  readonly listenAddr?: string
  /** The address a manager advertised, when given. */
  readonly advertiseAddr?: string
  /** Managers' addresses a worker reaches the cluster through (the join address first). */
  readonly managers: readonly string[]
}

/** The path of the file in `stateDir`. */
export function clusterNodeStatePath(stateDir: string): string {
  return join(stateDir, CLUSTER_NODE_FILE)
}

/** Writes the node's state (creating the directory, mode 0700). */
export async function writeClusterNodeState(stateDir: string, state: ClusterNodeState): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 })
  const path = clusterNodeStatePath(stateDir)
  const tmp = `${path}.new`
  const file = await open(tmp, 'w', 0o600)
  try {
    await file.writeFile(JSON.stringify({ format: FORMAT, ...state }, null, 2))
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(tmp, path)
}

/**
 * Reads the node's state.
 *
 * @throws NotFoundError when `stateDir` holds no node; FailedPreconditionError (reason
 *   `damaged-state`) when the file cannot be read as one.
 */
export async function readClusterNodeState(stateDir: string): Promise<ClusterNodeState> {
  const path = clusterNodeStatePath(stateDir)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('cluster node state', stateDir, { cause: err })
    throw err
  }
  const damaged = (why: string): FailedPreconditionError => new FailedPreconditionError(`${path}: ${why}`, { reason: 'damaged-state' })
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new FailedPreconditionError(`${path}: not JSON`, { reason: 'damaged-state', cause: err })
  }
  if (typeof parsed !== 'object' || parsed === null) throw damaged('not an object')
  const o = parsed as Record<string, unknown>
  if (o.format !== FORMAT) throw damaged(`unknown format ${String(o.format)}`)
  if (o.role !== 'manager' && o.role !== 'worker') throw damaged(`unknown role ${String(o.role)}`)
  const managers = Array.isArray(o.managers) ? o.managers.filter((m): m is string => typeof m === 'string') : []
  return {
    role: o.role,
    managers,
    ...(typeof o.listenAddr === 'string' ? { listenAddr: o.listenAddr } : {}),
    ...(typeof o.advertiseAddr === 'string' ? { advertiseAddr: o.advertiseAddr } : {}),
  }
}
