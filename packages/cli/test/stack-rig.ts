/**
 * Fixtures of the stack tests: one in-process manager on the fake runtime with fast Raft timing,
 * its control socket client, and compose fixtures read from test/fixtures/compose.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { Cluster, connectControlSocket, type ControlClient, type ManagerCluster } from '@swarmkit-ts/core'
import { composeStack, type ComposeStackOptions } from '../src/stack/compose.ts'
import type { StackSpec } from '../src/stack/convert-stack.ts'

/** The fixtures folder. */
export const FIXTURES = join(import.meta.dirname, 'fixtures', 'compose')

/** The stack of fixture files `files` (relative to `dir` under FIXTURES), for `namespace`. */
export function fixtureStack(dir: string, files: readonly string[], namespace: string, env: Record<string, string> = {}, warn?: (m: string) => void): StackSpec {
  const base = join(FIXTURES, dir)
  const options: ComposeStackOptions = { namespace, workingDir: base, env: (n) => env[n], readFile: (p) => new Uint8Array(readFileSync(join(base, p))), ...(warn === undefined ? {} : { warn }) }
  return composeStack(files.map((f) => ({ file: f, text: readFileSync(join(base, f), 'utf8') })), options)
}

/** A one-manager cluster and its control client, closed after each test. */
export class StackRig {
  #manager: ManagerCluster | undefined
  #control: ControlClient | undefined
  #dir: string | undefined

  constructor() {
    afterEach(async () => {
      this.#control?.close()
      await this.#manager?.close()
      if (this.#dir !== undefined) await rm(this.#dir, { recursive: true, force: true })
      this.#control = undefined
      this.#manager = undefined
      this.#dir = undefined
    })
  }

  /** Starts the manager; resolves with its control client. */
  async start(): Promise<ControlClient> {
    this.#dir = await mkdtemp(join(tmpdir(), 'stk-'))
    this.#manager = await Cluster.init({ stateDir: join(this.#dir, 's'), listenAddr: '127.0.0.1:0', runtime: 'fake', raft: { tickMs: 50, electionTick: 20, heartbeatTick: 1 }, heartbeatPeriodMs: 1000 })
    this.#control = connectControlSocket(this.#manager.controlSocketPath)
    return this.#control
  }

  /** The manager (after `start`). */
  get manager(): ManagerCluster {
    if (this.#manager === undefined) throw new Error('not started')
    return this.#manager
  }
}
