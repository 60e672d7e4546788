import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const CHILD = fileURLToPath(new URL('fixtures/loaded-packages.ts', import.meta.url))
const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url))

interface Loaded {
  afterImport: string[]
  fakeExitCode: number
  processList: unknown[]
  afterFakeAndProcess: string[]
  afterContainerdConstructed: string[]
  containerdError: string
  afterContainerd: string[]
  afterDockerConstructed: string[]
  dockerError: string
  afterDocker: string[]
}

/** Runs the child on the package's source entry (through tsx) and returns what it saw. */
async function loadedPackages(): Promise<Loaded> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--conditions=@swarmkit-ts/source', CHILD, ENTRY], {
    cwd: PACKAGE_DIR,
    timeout: 120_000,
  })
  return JSON.parse(stdout) as Loaded
}

const ENGINE_CLIENTS = ['dockerode', 'docker-modem', 'ssh2', '@grpc/grpc-js']

describe('engine clients are loaded on first use only', () => {
  it('an app using FakeRuntime and ProcessRuntime loads neither dockerode nor grpc-js; each engine runtime loads its own when it first calls its engine', async () => {
    const seen = await loadedPackages()
    expect(seen.fakeExitCode).toBe(3)
    expect(seen.processList).toEqual([])
    for (const step of [seen.afterImport, seen.afterFakeAndProcess, seen.afterContainerdConstructed]) {
      expect(step.filter((p) => ENGINE_CLIENTS.includes(p))).toEqual([])
    }
    // The controls: the same probe sees each client once its runtime called its (absent) engine.
    expect(seen.containerdError).toBe('grpc-14') // UNAVAILABLE
    expect(seen.afterContainerd.filter((p) => ENGINE_CLIENTS.includes(p))).toEqual(['@grpc/grpc-js'])
    expect(seen.afterDockerConstructed.filter((p) => ENGINE_CLIENTS.includes(p))).toEqual(['@grpc/grpc-js'])
    expect(seen.dockerError).toBe('ENOENT')
    expect(seen.afterDocker).toEqual(expect.arrayContaining(['dockerode', 'docker-modem', 'ssh2']))
  }, 180_000)
})
