// A script whose top level awaits a runtime's `wait` runs to its end: the runtimes' default clock
// (the api's systemClock) keeps the process alive while one of its timers is pending, and a
// runtime holds no timer once its containers have exited and it is closed.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { busyboxHost } from './helpers/busybox.ts'

const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url))
const host = busyboxHost()
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swarmkit-keep-alive-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs `body` as the top level of an ES module importing the package's source; exit code and stdout. */
async function runModule(name: string, body: string): Promise<{ code: number | null; stdout: string }> {
  const file = join(dir, `${name}.mts`)
  await writeFile(file, `import { FakeRuntime, ProcessRuntime, createBusyboxImage } from ${JSON.stringify(ENTRY)}\n${body}\n`)
  return new Promise((resolve, reject) => {
    // The source condition resolves @swarmkit-ts/api to its sources (not a stale dist); a process
    // held by a stray timer would run into the timeout.
    execFile(process.execPath, ['--import', 'tsx', '--conditions=@swarmkit-ts/source', file], { timeout: 60_000, encoding: 'utf8' }, (err, stdout) => {
      if (err === null) resolve({ code: 0, stdout })
      else if (typeof err.code === 'number') resolve({ code: err.code, stdout })
      else reject(new Error(`child failed: ${err.message}`, { cause: err }))
    })
  })
}

describe('a script that awaits a runtime at its top level', () => {
  it('FakeRuntime: awaiting wait on a sleeping container runs to the end and exits 0', async () => {
    const r = await runModule(
      'fake',
      `const rt = new FakeRuntime()
const id = await rt.create({ image: 'busybox:fake', command: ['sh', '-c', 'sleep 0.2; echo slept; exit 4'] })
await rt.start(id)
console.log('exit', await rt.wait(id))
await rt.remove(id)
void ProcessRuntime; void createBusyboxImage`,
    )
    expect(r).toEqual({ code: 0, stdout: 'exit 4\n' })
  }, 90_000)

  it.runIf(!host.skipped)('ProcessRuntime: awaiting wait runs to the end, and a closed runtime does not hold the process', async () => {
    const state = join(dir, 'process-state')
    const r = await runModule(
      'process',
      `const image = await createBusyboxImage(${JSON.stringify(join(dir, 'busybox-bin'))}, ${JSON.stringify(host.busybox)})
const rt = await ProcessRuntime.open({ stateDir: ${JSON.stringify(state)}, images: { 'local/busybox:test': image } })
const id = await rt.create({ image: 'local/busybox:test', command: ['sh', '-c', 'sleep 0.2; exit 5'] })
await rt.start(id)
console.log('exit', await rt.wait(id))
await rt.remove(id)
await rt.close()
void FakeRuntime`,
    )
    expect(r).toEqual({ code: 0, stdout: 'exit 5\n' })
  }, 90_000)
})
