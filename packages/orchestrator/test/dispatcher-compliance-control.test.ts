// Control tests of the binding compliance suite: each check named here fails against a binding
// broken in the way the check exists to catch (so the suite can fail, and for the right reason).
import type { AssignmentsMessage, DispatcherApi, DispatcherStreamOptions } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { ASSIGNMENT_CHECKS } from '../src/dispatcher/compliance/assignments-tests.ts'
import { Harness, type Checks, type DispatcherBindingTarget } from '../src/dispatcher/compliance/harness.ts'
import { SESSION_CHECKS } from '../src/dispatcher/compliance/session-tests.ts'
import { LEADERSHIP_CHECKS, STATUS_CHECKS } from '../src/dispatcher/compliance/status-tests.ts'
import { dispatcherTarget } from './helpers/dispatcher-target.ts'

/** How a broken binding changes what it carries. */
interface Breakage {
  readonly error?: (err: unknown) => unknown
  readonly session?: (request: Parameters<DispatcherApi['session']>[0]) => Parameters<DispatcherApi['session']>[0]
  readonly options?: (options: DispatcherStreamOptions | undefined) => DispatcherStreamOptions | undefined
  readonly assignment?: (message: AssignmentsMessage, index: number) => AssignmentsMessage
}

async function* mapStream<M>(stream: AsyncIterable<M>, map: (m: M, i: number) => M, error: (e: unknown) => unknown): AsyncGenerator<M> {
  let i = 0
  try {
    for await (const m of stream) yield map(m, i++)
  } catch (err) {
    throw error(err)
  }
}

function broken(api: DispatcherApi, b: Breakage): DispatcherApi {
  const error = b.error ?? ((e: unknown) => e)
  const options = b.options ?? ((o: DispatcherStreamOptions | undefined) => o)
  return {
    session: (request, o) => mapStream(api.session(b.session?.(request) ?? request, options(o)), (m) => m, error),
    heartbeat: (request) => api.heartbeat(request).catch((e: unknown) => Promise.reject(error(e) as Error)),
    assignments: (request, o) => mapStream(api.assignments(request, options(o)), b.assignment ?? ((m) => m), error),
    updateTaskStatus: (request) => api.updateTaskStatus(request).catch((e: unknown) => Promise.reject(error(e) as Error)),
  }
}

function target(b: Breakage): DispatcherBindingTarget {
  return dispatcherTarget((api) => broken(api, b))
}

/** Registers one test per named check, each expecting the check to fail against the broken binding. */
function expectFailures(title: string, b: Breakage, checks: Checks, names: readonly string[]): void {
  describe(title, () => {
    const h = new Harness(() => target(b), {})
    for (const name of names) {
      const check = checks[name]
      it(`fails: ${name}`, async () => {
        if (check === undefined) throw new Error(`no check named ${name}`)
        await expect(check(h)).rejects.toThrow()
      })
    }
  })
}

expectFailures('a binding that turns typed errors into plain errors', { error: (e) => new Error((e as Error).message) }, { ...SESSION_CHECKS, ...STATUS_CHECKS, ...LEADERSHIP_CHECKS }, [
  'refuses a heartbeat of an unknown session with session-invalid',
  'refuses a node that registers more than 3 times again within 8 s with UnavailableError',
  "refuses an update of another node's task with PermissionDeniedError, applying nothing",
  'once the dispatcher stops, open streams end with NotLeaderError and every call fails with it',
])

expectFailures('a binding that loses the session to resume', { session: (r) => ({ description: r.description }) }, SESSION_CHECKS, ['resumes the live session it is asked to resume'])

expectFailures('a binding that does not pass the signal on', { options: () => undefined }, { ...SESSION_CHECKS, ...ASSIGNMENT_CHECKS }, [
  'ends the session stream without an error when the signal aborts; the node is then disconnected and its session invalid',
  'ends the assignments stream without an error when the signal aborts',
])

expectFailures('a binding that loses the chain of incremental assignments', { assignment: (m, i) => (i === 0 ? m : { ...m, appliesTo: '' }) }, ASSIGNMENT_CHECKS, [
  'then sends incremental changes, each applying to the set the previous message results in',
])

expectFailures('a binding that loses the secrets of the complete set', { assignment: (m) => ({ ...m, changes: m.changes.filter((c) => !('secret' in c.assignment)) }) }, ASSIGNMENT_CHECKS, [
  "sends the complete set first: the node's tasks and the secrets they use, exactly as stored",
])
