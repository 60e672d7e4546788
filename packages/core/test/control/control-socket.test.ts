import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { createServer, type Server as NetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { InvalidArgumentError } from '@swarmkit-ts/api';
import { ClusterLockedError, FailedPreconditionError } from '@swarmkit-ts/api'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ControlClient } from '../../src/control/control-client.ts'
import { connectControlSocket, serveControlSocket, type ControlSocket } from '../../src/control/control-socket.ts'
import { caught, controlRig, replicated } from './fixture.ts'

describe('the local control socket', () => {
  let dir: string
  const sockets: ControlSocket[] = []
  const clients: ControlClient[] = []
  const netServers: NetServer[] = []

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctl-'))
  })

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    for (const s of sockets.splice(0)) await s.close()
    for (const n of netServers.splice(0)) await new Promise<void>((resolve) => n.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves the control API on a socket file of mode 0600, without certificates', async () => {
    const rig = controlRig()
    const path = join(dir, 'control.sock')
    sockets.push(await serveControlSocket(path, rig.control))
    const st = statSync(path)
    expect(st.isSocket()).toBe(true)
    expect(st.mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['control.sock'])
    const client = connectControlSocket(path)
    clients.push(client)
    const s = await client.services.create(replicated('web', 1))
    expect(rig.store.view((tx) => tx.services.get(s.id))?.spec.annotations.name).toBe('web')
    expect((await client.services.list()).map((x) => x.id)).toEqual([s.id])
  })

  it('asks a control function per call: a locked manager answers ClusterLockedError', async () => {
    const path = join(dir, 'locked.sock')
    sockets.push(await serveControlSocket(path, () => { throw new ClusterLockedError() }))
    const client = connectControlSocket(path)
    clients.push(client)
    expect(await caught(client.getCluster())).toBeInstanceOf(ClusterLockedError)
  })

  it('answers Info with the serving node id given to it, and FailedPreconditionError without one', async () => {
    const rig = controlRig()
    sockets.push(await serveControlSocket(join(dir, 'a.sock'), rig.control, { nodeId: 'node-a' }))
    sockets.push(await serveControlSocket(join(dir, 'b.sock'), rig.control))
    const a = connectControlSocket(join(dir, 'a.sock'))
    const b = connectControlSocket(join(dir, 'b.sock'))
    clients.push(a, b)
    expect(await a.info()).toEqual({ nodeId: 'node-a' })
    const err = await caught(b.info())
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect((err as FailedPreconditionError).message).toBe('this control service does not know its node id')
  })

  it('refuses to start over a file that is not a socket, leaving it untouched', async () => {
    const path = join(dir, 'notes.txt')
    writeFileSync(path, 'keep me')
    const err = await caught(serveControlSocket(path, controlRig().control))
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect((err as FailedPreconditionError).reason).toBe('not-a-socket')
    expect(readFileSync(path, 'utf8')).toBe('keep me')
    expect(readdirSync(dir)).toEqual(['notes.txt'])
  })

  it('refuses a socket another process listens on, leaving it in place', async () => {
    const path = join(dir, 'busy.sock')
    const other = createServer()
    netServers.push(other)
    await new Promise<void>((resolve) => other.listen(path, resolve))
    const err = await caught(serveControlSocket(path, controlRig().control))
    expect((err as FailedPreconditionError).reason).toBe('socket-in-use')
    expect(statSync(path).isSocket()).toBe(true)
  })

  it('replaces a stale socket file left by a killed manager', async () => {
    const path = join(dir, 'stale.sock')
    // A process that listens and is killed with SIGKILL leaves its socket file behind.
    const r = spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`])
    expect(r.signal).toBe('SIGKILL')
    expect(statSync(path).isSocket()).toBe(true)
    const rig = controlRig()
    sockets.push(await serveControlSocket(path, rig.control))
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const client = connectControlSocket(path)
    clients.push(client)
    expect(await client.services.list()).toEqual([])
  })

  it('removes the socket file on close, and refuses an empty path', async () => {
    const path = join(dir, 'c.sock')
    const s = await serveControlSocket(path, controlRig().control)
    await s.close()
    expect(existsSync(path)).toBe(false)
    expect(((await caught(serveControlSocket('', controlRig().control))) as InvalidArgumentError).field).toBe('path')
  })
})
