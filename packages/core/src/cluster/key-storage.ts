/**
 * Where a cluster node keeps its TLS key, following its role: a worker in
 * `certificates/swarm-node.key` (mode 0600, as SwarmKit), a manager only in its key store
 * `manager-keys.json` (sealed under autolock; never in clear on disk). A node's one certificate
 * store keeps one {@link ManagerKeyStorage} for its whole life, and a role change moves the key.
 *
 * @module
 */
import { rename } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDir, readIfExists, removeFiles, syncDir, writeSynced } from '../certs/files.ts'
import { nodeCertificatePaths, type NodeKeyStorage } from '../certs/index.ts'
import type { ManagerNode } from '../manager/index.ts'

/**
 * The key in `<stateDir>/certificates/swarm-node.key`: saved through a fsynced temporary file
 * renamed into place (the rename is the certificate store's commit point).
 */
export function fileKeyStorage(stateDir: string): NodeKeyStorage {
  const paths = nodeCertificatePaths(stateDir)
  return {
    load: () => readIfExists(paths.key),
    save: async (keyPem) => {
      await ensureDir(paths.dir, 0o700)
      const tmp = join(paths.dir, 'swarm-node.key.tmp')
      await writeSynced(tmp, keyPem, 0o600)
      await rename(tmp, paths.key)
      await syncDir(paths.dir)
    },
  }
}

/** Removes `<stateDir>/certificates/swarm-node.key` (a manager keeps its key in its key store). */
export async function removeKeyFile(stateDir: string): Promise<void> {
  const paths = nodeCertificatePaths(stateDir)
  await removeFiles(paths.key, paths.key + '.new', join(paths.dir, 'swarm-node.key.tmp'))
}

/**
 * The key storage of a node's certificate store, whose target follows the node's role: in memory
 * until a manager runs (init, join) or as read from a key file opened for that (open); then the
 * manager's own key store ({@link ManagerNode.tlsKeyStorage}), so a renewal's key lands in the one
 * `manager-keys.json` writer and is never written in clear; a worker's file
 * ({@link ManagerKeyStorage.inFile}); and back and forth as the node is promoted or demoted.
 */
export class ManagerKeyStorage implements NodeKeyStorage {
  #target: NodeKeyStorage

  constructor(initial: NodeKeyStorage) {
    this.#target = initial
  }

  /** A storage holding the key in memory only. */
  static inMemory(keyPem?: string): ManagerKeyStorage {
    let key = keyPem
    return new ManagerKeyStorage({
      load: () => Promise.resolve(key),
      save: (k) => {
        key = k
        return Promise.resolve()
      },
    })
  }

  /** A storage keeping the key in the worker's file `<stateDir>/certificates/swarm-node.key`. */
  static inFile(stateDir: string): ManagerKeyStorage {
    return new ManagerKeyStorage(fileKeyStorage(stateDir))
  }

  /** From now on keeps the key in `manager`'s key store. */
  attach(manager: ManagerNode): void {
    this.#target = manager.tlsKeyStorage()
  }

  /** From now on keeps the key in the worker's file of `stateDir` (a demoted manager). */
  useFile(stateDir: string): void {
    this.#target = fileKeyStorage(stateDir)
  }

  /** See {@link NodeKeyStorage.load}. */
  load(): Promise<string | undefined> {
    return this.#target.load()
  }

  /** See {@link NodeKeyStorage.save}. */
  save(keyPem: string): Promise<void> {
    return this.#target.save(keyPem)
  }
}
