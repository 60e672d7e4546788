/**
 * Fixtures of the command tests: an in-process cluster on the fake runtime with fast Raft timing,
 * and `swarmkit` run in process against its control socket with buffered output.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach } from 'vitest'
import { Cluster, type ClusterNode, type ManagerCluster } from '@swarmkit-ts/core'
import { run } from '../src/index.ts'
import { killWorkloads } from '../../../scripts/test-support/workloads.ts'

/** Fast Raft timing on 127.0.0.1, the fake runtime, a 1 s dispatcher heartbeat. */
export const FAST = { runtime: 'fake', raft: { tickMs: 50, electionTick: 20, heartbeatTick: 1 }, heartbeatPeriodMs: 1000 } as const

/** What one run printed and returned. */
export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `swarmkit argv…` in process with buffered output (and `stdin`, `env`, `signal` when given). */
export async function swarmkit(argv: readonly string[], extra: { stdin?: string; env?: Record<string, string>; signal?: AbortSignal; onStdout?: (text: string) => void } = {}): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await run(argv, {
    stdout: {
      write: (s: string) => {
        stdout += s
        extra.onStdout?.(stdout)
        return true
      },
    },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from(extra.stdin === undefined ? [] : [Buffer.from(extra.stdin)]) as AsyncIterable<Uint8Array>,
    env: extra.env ?? {},
    ...(extra.signal === undefined ? {} : { signal: extra.signal }),
  })
  return { code, stdout, stderr }
}

/** The JSON ready line of `swarmkit --format json node start`. */
export interface Started {
  readonly nodeId: string
  readonly role: string
  readonly address: string
  readonly controlSocket?: string
  readonly tokens?: { worker: string; manager: string }
}

/** Starts `swarmkit --format json node start argv…` in process; resolves its first JSON line, and the run's end. */
export function startNode(argv: readonly string[], signal: AbortSignal, stdin?: string): { ready: Promise<Started>; done: ReturnType<typeof swarmkit> } {
  let ready!: (s: Started) => void
  const readyP = new Promise<Started>((resolve) => (ready = resolve))
  const done = swarmkit(['--format', 'json', 'node', 'start', ...argv], {
    signal,
    ...(stdin === undefined ? {} : { stdin }),
    onStdout: (out) => {
      const first = out.split('\n')[0]
      if (out.includes('\n') && first !== undefined) ready(JSON.parse(first) as Started)
    },
  })
  return { ready: Promise.race([readyP, done.then((r) => Promise.reject(new Error(`node start ended: ${r.stderr}`)))]), done }
}

/** Raft timings that make a foreground node elect itself and settle fast in tests. */
export const FAST_NODE_FLAGS: readonly string[] = ['--raft-tick-ms', '50', '--election-tick', '20', '--heartbeat-period-ms', '1000']

/** A foreground node of a test (see {@link foregroundNodes}): `startNode`'s handles and its stop. */
export interface ForegroundNode {
  readonly ready: Promise<Started>
  readonly done: ReturnType<typeof swarmkit>
  readonly stop: AbortController
}

/**
 * A starter of foreground nodes (`node start`, in process) for one test file: every node a test
 * started is stopped and awaited after it — one started with `stopFirst` (a worker) before the
 * others (its manager).
 */
export function foregroundNodes(): (argv: readonly string[], options?: { readonly stdin?: string; readonly stopFirst?: boolean }) => ForegroundNode {
  const running: ForegroundNode[] = []
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.stop.abort()
      await r.done
    }
  })
  return (argv, options = {}) => {
    const stop = new AbortController()
    const node = { ...startNode(argv, stop.signal, options.stdin), stop }
    if (options.stopFirst === true) running.unshift(node)
    else running.push(node)
    return node
  }
}

/**
 * The rows of a table, header included: each line cut at the columns where the header's cells
 * start (Docker's layout: cells padded to their column's width), so a blank cell stays ''.
 * Trailing blank cells are dropped.
 */
export function rowsOf(table: string): string[][] {
  const lines = table.trimEnd().split('\n')
  const starts = [...(lines[0] ?? '').matchAll(/\S(?:\S| (?! ))*/g)].map((m) => m.index)
  return lines.map((line) => {
    const cells = starts.map((start, i) => line.slice(start, starts[i + 1] ?? line.length).trim())
    while (cells.length > 0 && cells.at(-1) === '') cells.pop()
    return cells
  })
}

/** Nodes and directories of one test, closed and removed after it. */
export class CliRig {
  readonly nodes: ClusterNode[] = []
  readonly #dirs: string[] = []

  constructor() {
    afterEach(async () => {
      for (const n of this.nodes.splice(0).reverse()) await n.close()
      // The process runtime's workloads outlive their node by design: a test leaves none running.
      for (const d of this.#dirs) await killWorkloads(d)
      for (const d of this.#dirs.splice(0)) await rm(d, { recursive: true, force: true })
    })
  }

  /** A new directory (short: a control socket may live in it). */
  async dir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'cli-'))
    this.#dirs.push(d)
    return d
  }

  /** A new one-manager cluster. */
  async init(extra: Partial<Parameters<typeof Cluster.init>[0]> = {}): Promise<ManagerCluster> {
    const m = await Cluster.init({ stateDir: join(await this.dir(), 's'), listenAddr: '127.0.0.1:0', hostname: 'm1', ...FAST, ...extra })
    this.nodes.push(m)
    return m
  }

  /** A node joined to `via` with the `role` token. */
  async join(via: ManagerCluster, role: 'manager' | 'worker', hostname: string): Promise<ClusterNode> {
    const tokens = await via.joinTokens()
    const n = await Cluster.join({ stateDir: join(await this.dir(), 's'), joinAddr: via.address, token: tokens[role], hostname, ...FAST })
    this.nodes.push(n)
    return n
  }
}

/** `swarmkit --host unix://<manager's socket> argv…`. */
export function cliOf(manager: ManagerCluster): (...argv: string[]) => Promise<CliResult> {
  return (...argv) => swarmkit(['--host', `unix://${manager.controlSocketPath}`, ...argv])
}
