/**
 * Fixtures of the multi-process scenarios on root rotation, autolock and logs: scanning a state
 * directory for secrets in clear, starting a node process that must fail, and the issuer of a
 * certificate. Built on processes.ts (read-only here).
 */
import { readdir, readFile } from 'node:fs/promises'
import { X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import { NodeProcess, type Exit } from '../../../../examples/manager-binary/src/node-process.ts'
import { FAST_FLAGS, type TestNode } from './processes.ts'

/** Every regular file under `dir` (recursively), sockets and other special files left out. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else if (entry.isFile()) out.push(path)
  }
  return out
}

/** The files under `dir` whose bytes contain `needle` (as UTF-8), relative to `dir`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const bytes = Buffer.from(needle, 'utf8')
  const hits: string[] = []
  for (const path of await filesUnder(dir)) {
    if ((await readFile(path)).includes(bytes)) hits.push(path.slice(dir.length + 1))
  }
  return hits.sort()
}

/** What a node process that was meant to fail did: its exit and its stderr. */
export interface FailedStart {
  readonly exit: Exit
  readonly stderr: string
}

/**
 * Starts `open` on `node`'s state directory (the fast flags plus `extra`) expecting the process
 * to exit before it is ready; throws if it became ready instead (and kills it).
 */
export async function openExpectingFailure(node: TestNode, extra: readonly string[] = []): Promise<FailedStart> {
  const p = NodeProcess.start(['open', '--state-dir', node.stateDir, '--hostname', node.name, ...FAST_FLAGS, ...extra])
  const outcome = await Promise.race([p.ready.then(() => 'ready' as const, () => 'failed' as const), p.exited.then(() => 'failed' as const)])
  if (outcome === 'ready') {
    await p.kill()
    throw new Error(`${node.name} opened although it was expected to fail`)
  }
  return { exit: await p.exited, stderr: p.stderr }
}

/** The issuer of a PEM certificate (its first certificate), e.g. `CN=swarm-ca`, and its SHA-256 of the issuer's key if known. */
export function issuerOf(certPem: string | Uint8Array): string {
  const pem = typeof certPem === 'string' ? certPem : Buffer.from(certPem).toString('utf8')
  return new X509Certificate(pem).issuer
}

/** Whether the first certificate of `certPem` is signed by the key of `caPem`'s certificate. */
export function signedBy(certPem: string | Uint8Array, caPem: string | Uint8Array): boolean {
  const text = (b: string | Uint8Array): string => (typeof b === 'string' ? b : Buffer.from(b).toString('utf8'))
  return new X509Certificate(text(certPem)).verify(new X509Certificate(text(caPem)).publicKey)
}
