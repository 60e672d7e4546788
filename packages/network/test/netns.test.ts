// The routing mesh across a real link: two network namespaces joined by a veth pair, a backend
// in one, the mesh (a child node process with a StaticEndpointSource) in the other, and clients
// in the mesh's namespace. Root only (CI runs as root); only addresses inside the namespaces and
// their loopbacks are used, and the namespaces are deleted afterwards even on failure.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshPortStats } from '../src/index.ts'
import { writeReplicaPrograms } from './helpers/mesh-fixtures.ts'
import { NetnsPair, netnsUnavailable } from './helpers/mesh-netns.ts'

const MESH = fileURLToPath(new URL('../src/mesh/index.ts', import.meta.url))
const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const unavailable = netnsUnavailable()
if (unavailable !== undefined) console.warn(`\n[network] SKIPPED the network namespace test: ${unavailable}\n`)

const BACKEND_PORT = 8080
const PUBLISHED_PORT = 8081
/** Published with a silent backend first (an address on the link that nobody holds), then the real one. */
const GHOST_FIRST_PORT = 8082

/**
 * The mesh child: publishes PUBLISHED_PORT on every address of its namespace to the backend, and
 * GHOST_FIRST_PORT to the ghost address then the backend, with a short connect timeout.
 */
function meshProgram(backendHost: string, ghostHost: string): string {
  return `import { RoutingMesh, StaticEndpointSource } from ${JSON.stringify(MESH)}
const a = { taskId: 'task-a', host: ${JSON.stringify(backendHost)}, port: ${BACKEND_PORT} }
const ghost = { taskId: 'task-ghost', host: ${JSON.stringify(ghostHost)}, port: ${BACKEND_PORT} }
const source = new StaticEndpointSource({ entries: [
  { publishedPort: ${PUBLISHED_PORT}, protocol: 'tcp', serviceId: 'svc', serviceName: 'web', backends: [a] },
  { publishedPort: ${GHOST_FIRST_PORT}, protocol: 'tcp', serviceId: 'svc2', serviceName: 'web2', backends: [ghost, a] },
] })
const mesh = new RoutingMesh({ source, listenAddress: '0.0.0.0', connectTimeoutMs: 300, failurePauseMs: 60000 })
await mesh.start()
console.log(mesh.listeners().every((l) => l.state === 'listening') ? 'ready' : 'failed')
process.stdin.on('data', () => console.log(JSON.stringify(mesh.stats())))
`
}

/** A client: GET url, print the body. */
const CLIENT = `const r = await fetch(process.argv[1]); console.log(await r.text())`

describe.runIf(unavailable === undefined)('the routing mesh between two network namespaces', () => {
  const pair = new NetnsPair()
  let dir = ''
  let meshChild: ChildProcess | undefined

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmkit-netns-'))
    await pair.create()
    const { http } = await writeReplicaPrograms(dir)
    await pair.spawnIn(pair.a, [process.execPath, http], { PORT: String(BACKEND_PORT), HOST: pair.addrA, REPLICA: 'backend-in-a' }, 'listening')
    const mesh = join(dir, 'mesh.mts')
    await writeFile(mesh, meshProgram(pair.addrA, pair.addrGhost))
    // tsx resolves from the repository root; the source condition loads workspace sources.
    meshChild = await pair.spawnIn(pair.b, [process.execPath, '--import', 'tsx', '--conditions=@swarmkit-ts/source', mesh], {}, 'ready', REPO)
  }, 60_000)

  afterAll(async () => {
    await pair.destroy()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it("a client in the mesh's namespace reaches the backend in the other namespace through the published port", async () => {
    expect((await pair.exec(pair.b, [process.execPath, '--input-type=module', '-e', CLIENT, `http://127.0.0.1:${PUBLISHED_PORT}/`])).trim()).toBe('backend-in-a')
    expect((await pair.exec(pair.b, [process.execPath, '--input-type=module', '-e', CLIENT, `http://${pair.addrB}:${PUBLISHED_PORT}/`])).trim()).toBe('backend-in-a')
  })

  it('a backend that never answers is given up after connectTimeoutMs and the connection goes to the next one', async () => {
    expect((await pair.exec(pair.b, [process.execPath, '--input-type=module', '-e', CLIENT, `http://127.0.0.1:${GHOST_FIRST_PORT}/`])).trim()).toBe('backend-in-a')
    expect((await pair.exec(pair.b, [process.execPath, '--input-type=module', '-e', CLIENT, `http://127.0.0.1:${GHOST_FIRST_PORT}/`])).trim()).toBe('backend-in-a')
    const stats = JSON.parse(await pair.ask(meshChild as ChildProcess, 'stats')) as MeshPortStats[]
    expect(stats.find((p) => p.publishedPort === GHOST_FIRST_PORT)?.backends.map((b) => [b.taskId, b.total, b.failed, b.paused])).toEqual([
      ['task-ghost', 0, 1, true],
      ['task-a', 2, 0, false],
    ])
  })

  it("the backend is not reachable in the mesh's namespace except over the link: nothing listens on its port there", async () => {
    await expect(pair.exec(pair.b, [process.execPath, '--input-type=module', '-e', CLIENT, `http://127.0.0.1:${BACKEND_PORT}/`])).rejects.toThrow()
  })
})
