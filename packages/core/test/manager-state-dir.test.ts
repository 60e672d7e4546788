/**
 * The manager state directory: `manager.json` written once and read back exactly, typed errors
 * for a missing, foreign or damaged directory, and ManagerNode.open refusing a certificate that
 * is not the directory's node.
 */
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cryptoRandom, generateId } from '@swarmkit-ts/api'
import { ManagerNode, managerStatePaths } from '../src/manager/index.ts'
import { readManagerIdentity, writeManagerIdentity } from '../src/manager/state-dir.ts'
import { cleanupAfterEach, managerInit, managerTls, nodeTls, tempDir } from './helpers/manager-rig.ts'

const cleanup = cleanupAfterEach()

describe('manager state directory', () => {
  it('writes manager.json once (mode 0600) and reads the same identity back, 64-bit id exact', async () => {
    const paths = managerStatePaths(join(await tempDir(cleanup), 'state'))
    const identity = { raftId: (1n << 64n) - 3n, nodeId: generateId(cryptoRandom), clusterId: generateId(cryptoRandom) }
    await writeManagerIdentity(paths, identity)
    expect(await readManagerIdentity(paths)).toEqual(identity)
    expect((await stat(paths.identity)).mode & 0o777).toBe(0o600)
    await expect(writeManagerIdentity(paths, identity)).rejects.toMatchObject({ name: 'AlreadyExistsError' })
    expect(JSON.parse(await readFile(paths.identity, 'utf8'))).toMatchObject({ raftId: ((1n << 64n) - 3n).toString() })
  })

  it('names what is wrong with a missing or damaged directory', async () => {
    const paths = managerStatePaths(join(await tempDir(cleanup), 'state'))
    await expect(readManagerIdentity(paths)).rejects.toMatchObject({ name: 'NotFoundError' })
    await writeManagerIdentity(paths, { raftId: 5n, nodeId: generateId(cryptoRandom), clusterId: generateId(cryptoRandom) })
    await writeFile(paths.identity, '{"format":"swarmkit-ts/manager/v1","raftId":"0"}')
    await expect(readManagerIdentity(paths)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'stateDir' })
    await writeFile(paths.identity, 'not json')
    await expect(readManagerIdentity(paths)).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'stateDir' })
  })

  it('ManagerNode.open refuses a certificate of another node than the directory holds', async () => {
    const init = await managerInit(cleanup, generateId(cryptoRandom))
    const m = await ManagerNode.init(init)
    await m.close()
    await expect(ManagerNode.open({ ...init, tls: await managerTls(generateId(cryptoRandom)) })).rejects.toMatchObject({ name: 'FailedPreconditionError', reason: 'identity-mismatch' })
  })

  it('ManagerNode refuses a worker certificate and bad options, naming the field', async () => {
    const init = await managerInit(cleanup, generateId(cryptoRandom))
    await expect(ManagerNode.init({ ...init, tls: await nodeTls(generateId(cryptoRandom), 'worker') })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'tls' })
    await expect(ManagerNode.init({ ...init, listenAddress: 'nowhere' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'listenAddress' })
    await expect(ManagerNode.init({ ...init, stateDir: '' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'stateDir' })
    await expect(ManagerNode.init({ ...init, heartbeatPeriodMs: 0 })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'heartbeatPeriodMs' })
  })
})

describe('a one-manager cluster', () => {
  it('elects itself without waiting for an election timeout (no Raft tick ever fires here)', async () => {
    // A clock that never fires: Raft never ticks, so only an immediate campaign can elect it.
    const frozen = { now: () => Date.now(), setTimeout: () => ({ cancel: () => {} }) }
    const init = await managerInit(cleanup, generateId(cryptoRandom), { clock: frozen, raft: {} })
    const m = await ManagerNode.init(init)
    cleanup.push(() => m.close())
    expect(m.isLeader).toBe(true)
    await m.close()
    const again = await ManagerNode.open(init)
    cleanup.push(() => again.close())
    await again.replicated.raft.waitForLeader()
    expect(again.isLeader).toBe(true)
  })
})
