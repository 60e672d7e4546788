/**
 * State and helpers of one run of the NetworkDriver compliance suite.
 * @internal
 */
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import type { NetworkAttachment, PortConfig } from '@swarmkit-ts/api'
import type { ContainerRuntime, RuntimeContainerSpec } from '@swarmkit-ts/engine-adapter'
import { afterAll, afterEach, beforeAll } from 'vitest'
import type { DriverNetwork, NetworkDriver, NetworkDriverCapabilities, TaskNetworkRequest } from '../driver/network-driver.ts'
import { withTaskNetwork } from '../driver/task-network.ts'

/** What the factory hands to the suite. */
export interface NetworkDriverComplianceTarget {
  /** The driver under test. */
  driver: NetworkDriver
  /** The runtime it is paired with (the agent runs task containers on it). */
  runtime: ContainerRuntime
  /**
   * A local busybox image on `runtime`: `sh`, `nc` (with `-ll` and `-e`), `ip`, `sleep` on `PATH`
   * (the engine-adapter's test image).
   */
  image: string
  /**
   * The first two octets of the IPv4 range the suite's networks are carved from (each run takes
   * up to 64 /28 subnets inside a random /22 of it), so they do not collide with the engine's
   * other networks. @default '10.<200..249>', random per run
   */
  subnetPrefix?: string
  /** Releases what the factory made (after the suite removed its containers, tasks and networks). */
  teardown?: () => Promise<void> | void
}

/** Options of `describeNetworkDriverCompliance`. */
export interface NetworkDriverComplianceOptions {
  /** The capabilities the driver declares; `describe()` must report exactly these. */
  capabilities: NetworkDriverCapabilities
  /** Per-test time limit in ms. @default 30000 */
  testTimeoutMs?: number
}

/** Label on every container the suite creates (with the run id as value). */
export const NETWORK_COMPLIANCE_LABEL = 'swarmkit-ts.network-compliance.run'

/** The TCP server the suite's tasks run: answers every connection with `reply` and closes it. */
export function replyServer(port: number, reply: string): string {
  return `exec nc -ll -p "\${PORT:-${String(port)}}" -e echo ${reply}`
}

/** Reads what a TCP server at address:port sends before it closes; rejects on a connection error. */
export function readReply(address: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port })
    let data = ''
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer from ${address}:${String(port)}`)))
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('utf8')
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(data))
  })
}

/** Per-suite state: the target, a run id, and what each test made (removed after it). */
export class NetworkHarness {
  readonly runId = randomBytes(4).toString('hex')
  readonly timeout: number
  #target: NetworkDriverComplianceTarget | undefined
  #prefix = ''
  #third = 0
  #subnets = 0
  #containers: string[] = []
  #tasks: string[] = []
  #networks: string[] = []

  constructor(factory: () => Promise<NetworkDriverComplianceTarget> | NetworkDriverComplianceTarget, options: NetworkDriverComplianceOptions) {
    this.timeout = options.testTimeoutMs ?? 30_000
    beforeAll(async () => {
      this.#target = await factory()
      this.#prefix = this.#target.subnetPrefix ?? `10.${String(200 + (randomBytes(1)[0] ?? 0) % 50)}`
      this.#third = 4 * ((randomBytes(1)[0] ?? 0) % 64)
    }, 120_000)
    afterEach(async () => {
      await this.cleanUp()
    }, 60_000)
    afterAll(async () => {
      if (this.#target === undefined) return
      await this.cleanUp()
      await this.#target.teardown?.()
      this.#target = undefined
    }, 120_000)
  }

  get target(): NetworkDriverComplianceTarget {
    if (this.#target === undefined) throw new Error('compliance setup did not run')
    return this.#target
  }

  get driver(): NetworkDriver {
    return this.target.driver
  }

  /** A fresh id (for networks and tasks). */
  id(kind: string): string {
    return `${kind}${this.runId}${randomBytes(6).toString('hex')}`
  }

  /**
   * A cluster network description with a fresh /28 subnet (64 per run; host `k` of it is
   * {@link NetworkHarness.address}), not yet created.
   */
  network(extra: Partial<DriverNetwork> = {}): DriverNetwork & { index: number } {
    const index = this.#subnets++
    if (index >= 64) throw new Error('the compliance suite ran out of subnets for this run')
    const id = this.id('n')
    return { id, name: `c${this.runId}-${String(index)}`, subnet: `${this.address({ index }, 0)}/28`, gateway: this.address({ index }, 1), ...extra, index }
  }

  /** Host address k (0–15) of the network's subnet, without a prefix. */
  address(network: { index: number }, k: number): string {
    return `${this.#prefix}.${String(this.#third + Math.floor(network.index / 16))}.${String((network.index % 16) * 16 + k)}`
  }

  /** Creates a network on the driver (removed after the test). */
  async create(network: DriverNetwork): Promise<void> {
    this.#networks.push(network.id)
    await this.driver.createNetwork(network)
  }

  /** A task request (its id released after the test). */
  task(attachments: NetworkAttachment[], ports: PortConfig[] = []): TaskNetworkRequest {
    const taskId = this.id('t')
    this.#tasks.push(taskId)
    return { taskId, attachments, ports }
  }

  /** Prepares a task, creates and starts its container running `script`; returns the container id. */
  async runTask(task: TaskNetworkRequest, script: string): Promise<string> {
    const config = await this.driver.prepareTask(task)
    const base: RuntimeContainerSpec = { image: this.target.image, command: ['sh', '-c', script], labels: { [NETWORK_COMPLIANCE_LABEL]: this.runId } }
    const id = await this.target.runtime.create(withTaskNetwork(base, config))
    this.#containers.push(id)
    await this.target.runtime.start(id)
    return id
  }

  /** The container's stdout lines so far. */
  async stdout(id: string): Promise<string[]> {
    const out: string[] = []
    for await (const l of this.target.runtime.logs(id)) if (l.stream === 'stdout') out.push(l.line)
    return out
  }

  /** Removes one container now (before releasing its task). */
  async removeContainer(id: string): Promise<void> {
    await this.target.runtime.remove(id, { force: true })
    this.#containers = this.#containers.filter((c) => c !== id)
  }

  /** Removes the test's containers, releases its tasks and removes its networks. */
  async cleanUp(): Promise<void> {
    if (this.#target === undefined) return
    const { runtime, driver } = this.#target
    await Promise.all(this.#containers.map((id) => runtime.remove(id, { force: true }).catch(() => undefined)))
    for (const t of this.#tasks) await driver.releaseTask(t)
    for (const n of this.#networks) await driver.removeNetwork(n)
    this.#containers = []
    this.#tasks = []
    this.#networks = []
  }
}
