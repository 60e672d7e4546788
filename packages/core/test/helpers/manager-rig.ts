/**
 * Fixtures of the ManagerNode tests: manager certificates minted by a test root CA, temporary
 * state directories, fast Raft timing, waits on conditions (guards only, never timing
 * assertions), and cleanup after each test.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { cryptoRandom, generateId, type NodeRole } from '@swarmkit-ts/api'
import { createCsr, generateNodeKey, RootCA, TlsMaterialSource } from '@swarmkit-ts/pki'
import type { LeaderComponent } from '../../src/manager/index.ts'
import type { ManagerNodeInit } from '../../src/manager/index.ts'

/** The cluster of the test certificates. */
export const CLUSTER_ID = generateId(cryptoRandom)

/** Polls `cond` until it holds; throws naming `what` after `timeoutMs` (a guard against hanging). */
export async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Cleanups run in reverse order after each test of the calling file. */
export function cleanupAfterEach(): Array<() => Promise<void> | void> {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f()
  })
  return cleanup
}

let ca: Promise<RootCA> | undefined

/** TLS material of node `nodeId` with `role` of {@link CLUSTER_ID} (or `clusterId`), from the file's test CA. */
export async function nodeTls(nodeId: string, role: NodeRole, clusterId = CLUSTER_ID): Promise<TlsMaterialSource> {
  ca ??= RootCA.create()
  const root = await ca
  const key = await generateNodeKey()
  const cert = await root.issue(await createCsr(key), { nodeId, role, clusterId })
  return new TlsMaterialSource({ keyPem: key.keyPem, certChainPem: cert.chainPem, trustBundlePem: root.certPem })
}

/** TLS material of a manager `nodeId` (see {@link nodeTls}). */
export function managerTls(nodeId: string, clusterId = CLUSTER_ID): Promise<TlsMaterialSource> {
  return nodeTls(nodeId, 'manager', clusterId)
}

/** A temporary directory removed after the test. */
export async function tempDir(cleanup: Array<() => Promise<void> | void>, prefix = 'manager-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Fast Raft timing for tests on 127.0.0.1 (election after 1–2 s without a leader: margin for a loaded machine). */
export const FAST_RAFT = { tickMs: 50, electionTick: 20, heartbeatTick: 1 } as const

/** The options of a manager `nodeId` with its own state dir, on 127.0.0.1:0. */
export async function managerInit(cleanup: Array<() => Promise<void> | void>, nodeId: string, extra?: Partial<ManagerNodeInit>): Promise<ManagerNodeInit> {
  return { stateDir: join(await tempDir(cleanup), 'state'), listenAddress: '127.0.0.1:0', tls: await managerTls(nodeId), raft: FAST_RAFT, ...extra }
}

/** A leader component recording when each manager's terms start and stop. */
export class TermRecorder {
  readonly events: string[] = []
  /** Terms running now, by node id. */
  readonly running = new Set<string>()

  component(): LeaderComponent {
    return {
      name: 'term-recorder',
      start: (ctx) => {
        this.events.push(`start ${ctx.nodeId}`)
        this.running.add(ctx.nodeId)
        return {
          stop: () => {
            this.events.push(`stop ${ctx.nodeId}`)
            this.running.delete(ctx.nodeId)
            return Promise.resolve()
          },
        }
      },
    }
  }
}
