/**
 * Refused joins and refused callers, with every node a separate process: a join with a wrong
 * token, with a token of another cluster, or with a malformed token exits non-zero naming the
 * problem and adds no node; a caller without a certificate reaches only the CA; a worker's
 * certificate does not open the control API.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { status } from '@grpc/grpc-js'
import { NodeState } from '@swarmkit-ts/api'
import { credentials } from '@swarmkit-ts/pki'
import { AUTHENTICATED_METHODS, anonymousCredentials, CA_METHODS, certificateOf, failedStart, rawCall, rootCaOf, startedProcess } from './ops-fixtures.ts'
import { controlOf, ProcessRig, until, type TestNode } from './processes.ts'

/** The node ids of the cluster as `m` lists them, sorted. */
async function nodeIds(m: TestNode): Promise<string[]> {
  return (await controlOf(m).nodes.list()).map((n) => n.id).sort()
}

describe('multi-process refused joins and callers', () => {
  const rig = new ProcessRig()
  const dirs: string[] = []
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
  })
  const joinArgs = async (joinAddr: string, token: string): Promise<string[]> => {
    const d = await mkdtemp(join(tmpdir(), 'mp-join-'))
    dirs.push(d)
    return ['join', '--state-dir', join(d, 's'), '--join-addr', joinAddr, '--token', token]
  }

  it('refuses wrong, foreign and malformed tokens (exit 1, one line naming the problem, no node added); no certificate reaches only the CA; a worker certificate is refused by control; the refused joiner’s state directory joins with the right token; a rotated token is refused', async () => {
    const m1 = await rig.init('m1')
    const m2 = await rig.join('m2', m1, 'manager')
    const w1 = await rig.join('w1', m1, 'worker')
    const other = await rig.init('other')
    await until(async () => (await controlOf(m1).nodes.list()).filter((n) => n.status.state === NodeState.READY).length === 3, 'three nodes ready')
    const before = await nodeIds(m1)
    expect(before).toEqual([m1, m2, w1].map((n) => n.ready.nodeId).sort())

    const tokens = m1.ready.tokens
    const foreign = other.ready.tokens
    if (tokens === undefined || foreign === undefined) throw new Error('init printed no tokens')
    // Right cluster (the digest of m1's root CA), wrong secret (the other cluster's).
    const secretOf = (t: string): string => t.split('-')[3] ?? ''
    const wrongSecret = tokens.worker.replace(secretOf(tokens.worker), secretOf(foreign.worker))
    expect(wrongSecret).not.toBe(tokens.worker)

    const wrongArgs = await joinArgs(m1.ready.address, wrongSecret)
    const wrong = await failedStart(wrongArgs)
    expect(wrong.exit).toEqual({ code: 1, signal: null })
    expect(wrong.stderr).toBe('manager-binary: PermissionDeniedError: token: invalid join token\n')

    // The same through a follower (which sends the joiner to the leader), with the manager token's digest.
    const wrongManager = await failedStart(await joinArgs(m2.ready.address, tokens.manager.replace(secretOf(tokens.manager), secretOf(foreign.manager))))
    expect([wrongManager.exit, wrongManager.stderr]).toEqual([{ code: 1, signal: null }, 'manager-binary: PermissionDeniedError: token: invalid join token\n'])

    const another = await failedStart(await joinArgs(m2.ready.address, foreign.worker))
    expect(another.exit).toEqual({ code: 1, signal: null })
    expect(another.stderr).toBe(
      `manager-binary: PermissionDeniedError: token: the root CA of the manager at ${m2.ready.address} does not match the join token's digest (a token of another cluster?); nothing was sent\n`,
    )

    const malformed = await failedStart(await joinArgs(m1.ready.address, 'SWMTKN-1-not-a-token'))
    expect(malformed.exit).toEqual({ code: 1, signal: null })
    expect(malformed.stderr).toBe('manager-binary: InvalidArgumentError: token: must have four dash-separated parts\n')

    for (const m of [m1, m2]) expect(await nodeIds(m)).toEqual(before)
    expect((await controlOf(other).nodes.list()).map((n) => n.id)).toEqual([other.ready.nodeId])

    // No client certificate: every method but the CA's is refused, on the leader and on a follower.
    const anonymous = anonymousCredentials(await rootCaOf(m1.stateDir))
    for (const m of [m1, m2]) {
      const refused = await Promise.all(
        AUTHENTICATED_METHODS.map(async (method) => {
          const { code, details } = await rawCall(m.ready.address, anonymous, method)
          return { path: method.path, code, namesCertificate: details.includes('certificate') }
        }),
      )
      expect(refused).toEqual(AUTHENTICATED_METHODS.map((method) => ({ path: method.path, code: status.PERMISSION_DENIED, namesCertificate: true })))
      const ca = await Promise.all(CA_METHODS.map(async (method) => ({ path: method.path, code: (await rawCall(m.ready.address, anonymous, method)).code })))
      expect(ca).toEqual([
        { path: '/swarmkit.core.v1.CA/GetRootCACertificate', code: status.OK },
        { path: '/swarmkit.core.v1.CA/IssueNodeCertificate', code: status.INVALID_ARGUMENT },
        { path: '/swarmkit.core.v1.CA/NodeCertificateStatus', code: status.INVALID_ARGUMENT },
      ])
    }

    // A worker's certificate: refused by the control API (managers only), on both managers.
    const worker = credentials.forClient(await certificateOf(w1.stateDir), { serverRole: 'manager' })
    const control = AUTHENTICATED_METHODS.filter((method) => method.path.startsWith('/swarmkit.core.v1.Control/'))
    for (const m of [m1, m2]) {
      const refused = await Promise.all(control.map(async (method) => ({ path: method.path, code: (await rawCall(m.ready.address, worker, method)).code })))
      expect(refused).toEqual(control.map((method) => ({ path: method.path, code: status.PERMISSION_DENIED })))
    }
    expect(await nodeIds(m1)).toEqual(before)

    // The refused join left nothing behind: the same state directory joins with the right token.
    const retried = await startedProcess(wrongArgs.map((a) => (a === wrongSecret ? tokens.worker : a)))
    expect(retried.ready.role).toBe('worker')
    await until(async () => (await nodeIds(m2)).length === 4, 'the retried join listed')
    expect(await nodeIds(m2)).toEqual([...before, retried.ready.nodeId].sort())

    // A rotated token stops admitting nodes.
    const rotated = await controlOf(m2).rotateJoinToken('worker')
    expect([rotated.worker === tokens.worker, rotated.manager === tokens.manager]).toEqual([false, true])
    const stale = await failedStart(await joinArgs(m1.ready.address, tokens.worker))
    expect([stale.exit, stale.stderr]).toEqual([{ code: 1, signal: null }, 'manager-binary: PermissionDeniedError: token: invalid join token\n'])
    expect(await nodeIds(m1)).toEqual([...before, retried.ready.nodeId].sort())
  }, 240_000)
})
