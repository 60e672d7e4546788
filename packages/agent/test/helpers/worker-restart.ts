/**
 * The agents and runtimes of a restart test: made here, stopped and closed as a worker going
 * away would be (`goAway`), and whatever is left cleaned up after the test (`cleanup`).
 */
import { systemClock } from '@swarmkit-ts/api'
import type { DispatcherApi } from '@swarmkit-ts/api'
import type { ContainerRuntime } from '@swarmkit-ts/engine-adapter'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { RuntimeExecutor } from '../../src/exec/index.ts'
import { Agent } from '../../src/worker/index.ts'

/** Tracks the agents and runtimes one test file opens. */
export class RestartRig<R extends ContainerRuntime & { close(): Promise<void> }> {
  readonly #agents: Agent[] = []
  readonly #runtimes: R[] = []
  readonly #stateDir: () => string

  /** `stateDir` gives the agents' state directory (the same for every agent: a restart keeps it). */
  constructor(stateDir: () => string) {
    this.#stateDir = stateDir
  }

  /** Tracks `runtime` for cleanup and returns it. */
  track(runtime: R): R {
    this.#runtimes.push(runtime)
    return runtime
  }

  /** An agent of node `node1` on `runtime`, talking to `dispatcher`, on the system clock. */
  agent(runtime: R, dispatcher: DispatcherApi): Agent {
    const agent = new Agent({
      dispatcher: () => dispatcher,
      executor: new RuntimeExecutor({ runtime, clock: systemClock, hostname: 'node1' }),
      stateDir: this.#stateDir(),
      clock: systemClock,
      random: new SeededRandom(1),
    })
    this.#agents.push(agent)
    return agent
  }

  /** The worker goes away: its agent stops and its runtime closes (the containers keep running). */
  async goAway(agent: Agent, runtime: R): Promise<void> {
    await agent.stop()
    this.#agents.splice(this.#agents.indexOf(agent), 1)
    await runtime.close()
    this.#runtimes.splice(this.#runtimes.indexOf(runtime), 1)
  }

  /** Stops every agent left, removes every container of the runtimes left and closes them. */
  async cleanup(): Promise<void> {
    for (const a of this.#agents.splice(0)) await a.stop()
    for (const rt of this.#runtimes.splice(0)) {
      for (const c of await rt.list()) await rt.remove(c.id, { force: true }).catch(() => undefined)
      await rt.close()
    }
  }
}
