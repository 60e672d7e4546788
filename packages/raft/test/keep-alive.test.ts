// A script whose top level awaits a Raft election runs to its end: RaftNode's default clock (the
// api's systemClock) keeps the process alive while its ticker is pending, and `stop()` cancels
// every timer, so the script then exits on its own with code 0.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url))
// The scripts live in a temporary folder, so they import the other packages by their source path.
const API = fileURLToPath(new URL('../../api/src/index.ts', import.meta.url))
const TESTKIT = fileURLToPath(new URL('../../testkit/src/index.ts', import.meta.url))
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swarmkit-raft-keep-alive-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const STATE_MACHINE = `const applied: string[] = []
const stateMachine = {
  apply: (payload: Uint8Array) => void applied.push(new TextDecoder().decode(payload)),
  snapshot: () => new Uint8Array(0),
  restore: () => {},
}`

/** Runs `body` as the top level of an ES module importing raft's and testkit's sources; exit code and stdout. */
async function runModule(name: string, body: string): Promise<{ code: number | null; stdout: string }> {
  const file = join(dir, `${name}.mts`)
  await writeFile(file, `import { MemoryRaftStorage, RaftNode } from ${JSON.stringify(ENTRY)}\n${body}\n`)
  return new Promise((resolve, reject) => {
    // The source condition resolves the workspace packages to their sources (not a stale dist); a
    // process held by a stray timer would run into the timeout.
    execFile(process.execPath, ['--import', 'tsx', '--conditions=@swarmkit-ts/source', file], { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000, encoding: 'utf8' }, (err, stdout) => {
      if (err === null) resolve({ code: 0, stdout })
      else if (typeof err.code === 'number') resolve({ code: err.code, stdout })
      else reject(new Error(`child failed: ${err.message}`, { cause: err }))
    })
  })
}

describe('a script that awaits a Raft election at its top level', () => {
  it('one member on the default clock: elects itself, applies a proposal, stops, exits 0', async () => {
    const r = await runModule(
      'lone',
      `${STATE_MACHINE}
const transport = { start: () => Promise.resolve(), send: () => {}, addPeer: () => {}, removePeer: () => {}, stop: () => Promise.resolve() }
const node = new RaftNode({ id: 1n, storage: new MemoryRaftStorage(), transport, stateMachine, tickMs: 10 })
node.bootstrap([{ id: 1n, address: 'a1' }])
await node.start()
console.log('leader', String(await node.waitForLeader()))
await node.propose(new TextEncoder().encode('x=1'))
await node.stop()
console.log('applied', applied.join(','))`,
    )
    expect(r).toEqual({ code: 0, stdout: 'leader 1\napplied x=1\n' })
  }, 90_000)

  it('three members over a MemoryNetwork on the system clock: a leader, a proposal, all stopped, exits 0', async () => {
    const r = await runModule(
      'three',
      `import { cryptoRandom, systemClock } from ${JSON.stringify(API)}
import { MemoryNetwork } from ${JSON.stringify(TESTKIT)}
${STATE_MACHINE}
const net = new MemoryNetwork({ clock: systemClock, random: cryptoRandom })
const peers = [1n, 2n, 3n].map((id) => ({ id, address: 'm' + id }))
const nodes = peers.map(({ id }) => new RaftNode({ id, storage: new MemoryRaftStorage(), transport: net.endpoint(id, { address: 'm' + id }), stateMachine, tickMs: 10 }))
for (const n of nodes) n.bootstrap(peers)
await Promise.all(nodes.map((n) => n.start()))
const leader = await nodes[0]!.waitForLeader()
await nodes.find((n) => n.id === leader)!.propose(new TextEncoder().encode('y=2'))
await Promise.all(nodes.map((n) => n.stop()))
console.log('leader known', leader >= 1n && leader <= 3n)`,
    )
    expect(r).toEqual({ code: 0, stdout: 'leader known true\n' })
  }, 90_000)
})
