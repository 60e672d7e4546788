import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock, NodeRole } from '@swarmkit-ts/api'
import { createCsr, generateNodeKey, type IssuedCertificate, type RootCA, type TlsMaterial } from '../../src/index.ts'

export const OPENSSL = '/usr/bin/openssl'
export const hasOpenssl = existsSync(OPENSSL)

export interface IssuedNode extends IssuedCertificate {
  keyPem: string
}

/** A fresh key, CSR and certificate for a node. */
export async function issueNode(ca: RootCA, nodeId: string, role: NodeRole, clusterId = 'cluster1', extra?: { ttlMs?: number; clock?: Clock }): Promise<IssuedNode> {
  const key = await generateNodeKey()
  const cert = await ca.issue(await createCsr(key), { nodeId, role, clusterId, ...extra })
  return { ...cert, keyPem: key.keyPem }
}

export function material(node: IssuedNode, trustBundlePem: string): TlsMaterial {
  return { keyPem: node.keyPem, certChainPem: node.chainPem, trustBundlePem }
}

/**
 * Runs `openssl verify` on `leafPem` with `trustPem` as the trust store and `untrustedPem` as
 * intermediates; returns its exit code and output. `atSeconds` sets the verification time.
 */
export function opensslVerify(trustPem: string, leafPem: string, untrustedPem?: string, atSeconds?: number): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pki-openssl-'))
  try {
    writeFileSync(join(dir, 'trust.pem'), trustPem)
    writeFileSync(join(dir, 'leaf.pem'), leafPem)
    const args = ['verify', '-CAfile', join(dir, 'trust.pem')]
    if (untrustedPem !== undefined && untrustedPem !== '') {
      writeFileSync(join(dir, 'untrusted.pem'), untrustedPem)
      args.push('-untrusted', join(dir, 'untrusted.pem'))
    }
    if (atSeconds !== undefined) args.push('-attime', String(Math.floor(atSeconds)))
    args.push(join(dir, 'leaf.pem'))
    try {
      const out = execFileSync(OPENSSL, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      return { ok: true, output: out }
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string }
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
