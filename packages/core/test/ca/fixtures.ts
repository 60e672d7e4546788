import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NodeRole } from '@swarmkit-ts/api'
import { createCsr, generateNodeKey, type RootCA, type TlsMaterial } from '@swarmkit-ts/pki'

/** A fresh key and a certificate from `ca` for a node, as TLS material trusting `ca`. */
export async function mintMaterial(ca: RootCA, nodeId: string, role: NodeRole, clusterId: string, ttlMs?: number): Promise<TlsMaterial> {
  const key = await generateNodeKey()
  const cert = ca.issueSync(await createCsr(key), { nodeId, role, clusterId, ...(ttlMs === undefined ? {} : { ttlMs }) })
  return { keyPem: key.keyPem, certChainPem: cert.chainPem, trustBundlePem: ca.certPem }
}

/** Temporary directories removed by `cleanup()`. */
export class TempDirs {
  readonly #dirs: string[] = []
  async make(prefix = 'core-ca-'): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix))
    this.#dirs.push(d)
    return d
  }
  async cleanup(): Promise<void> {
    for (const d of this.#dirs.splice(0)) await rm(d, { recursive: true, force: true })
  }
}
