/**
 * A manager's state directory:
 *
 * ```
 * <stateDir>/
 *   manager.json        this manager's identity in the Raft group: format, Raft member id, node id,
 *                       cluster id (nothing secret; written once, atomically, at init or join)
 *   manager-keys.json   pki's ManagerKeyStore: the TLS key and the Raft data keys (DEKs), in clear
 *                       or, with autolock, sealed under a KEK derived from the unlock key (mode 0600)
 *   raft/               FileRaftStorage: WAL segments and snapshot files, every record and snapshot
 *                       sealed (AES-256-GCM) with the DEK ring of manager-keys.json
 *   certificates/       the node's certificate and root CA (part P's NodeCertificateStore)
 * ```
 *
 * @module
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, isRaftMemberId, type RaftMemberId } from '@swarmkit-ts/api'

const FORMAT = 'swarmkit-ts/manager/v1'

/** The paths inside a manager's state directory. */
export interface ManagerStatePaths {
  readonly dir: string
  readonly identity: string
  readonly keys: string
  readonly raft: string
}

/** The paths of the manager state directory `dir`. */
export function managerStatePaths(dir: string): ManagerStatePaths {
  return { dir, identity: join(dir, 'manager.json'), keys: join(dir, 'manager-keys.json'), raft: join(dir, 'raft') }
}

/** What `manager.json` records. */
export interface ManagerIdentity {
  readonly raftId: RaftMemberId
  readonly nodeId: string
  readonly clusterId: string
}

/**
 * Writes `manager.json` (temporary file, fsync, rename, directory fsync), creating the directory.
 *
 * @throws AlreadyExistsError when the directory already holds a manager.
 */
export async function writeManagerIdentity(paths: ManagerStatePaths, id: ManagerIdentity): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })
  if (await exists(paths.identity)) throw new AlreadyExistsError('manager state', paths.dir)
  const tmp = `${paths.identity}.tmp`
  const fh = await open(tmp, 'w', 0o600)
  try {
    await fh.writeFile(JSON.stringify({ format: FORMAT, raftId: id.raftId.toString(), nodeId: id.nodeId, clusterId: id.clusterId }, undefined, 2) + '\n')
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, paths.identity)
  const d = await open(paths.dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
}

/**
 * Reads `manager.json`.
 *
 * @throws NotFoundError when the directory holds no manager; InvalidArgumentError (`stateDir`) when the file is not one.
 */
export async function readManagerIdentity(paths: ManagerStatePaths): Promise<ManagerIdentity> {
  let text: string
  try {
    text = await readFile(paths.identity, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('manager state', paths.dir, { cause: err })
    throw err
  }
  let o: { format?: unknown; raftId?: unknown; nodeId?: unknown; clusterId?: unknown }
  try {
    o = JSON.parse(text) as typeof o
  } catch (err) {
    throw new InvalidArgumentError('stateDir', `${paths.identity} is not a manager identity file`, { cause: err })
  }
  const raftId = typeof o.raftId === 'string' && /^\d+$/.test(o.raftId) ? BigInt(o.raftId) : 0n
  if (o.format !== FORMAT || !isRaftMemberId(raftId) || typeof o.nodeId !== 'string' || typeof o.clusterId !== 'string') {
    throw new InvalidArgumentError('stateDir', `${paths.identity} is not a manager identity file`)
  }
  return { raftId, nodeId: o.nodeId, clusterId: o.clusterId }
}

/** Whether the directory holds a manager (`manager.json`). */
export function hasManagerState(paths: ManagerStatePaths): Promise<boolean> {
  return exists(paths.identity)
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}
