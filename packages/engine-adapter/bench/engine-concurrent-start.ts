/**
 * Start N containers concurrently and time until all run, on the real engines: DockerRuntime and
 * ContainerdRuntime, plus the `docker run -d` CLI loop (N runs one after another) against the same
 * dockerd as the baseline, measured in the same run. Exported for the package bench runner;
 * `bench/run-engines.ts` runs it alone.
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ContainerdRuntime } from '../src/containerd/containerd-runtime.ts'
import { DockerRuntime } from '../src/docker/docker-runtime.ts'
import type { ContainerRuntime } from '../src/runtime.ts'
import type { EngineEnv } from '../test/helpers/engines.ts'

const run = promisify(execFile)

/** One benchmark result row. */
export interface StartBenchRow {
  benchmark: string
  containers: number
  /** Time until every container ran, ms. */
  totalMs: number
  perContainerMs: number
  /** Baseline total / this total (how many times faster than the `docker run -d` loop); 1 for the baseline. */
  speedupVsDockerCli: number | undefined
}

async function timeRuntime(rt: ContainerRuntime, image: string, n: number): Promise<number> {
  const t0 = performance.now()
  const ids = await Promise.all(
    Array.from({ length: n }, async () => {
      const id = await rt.create({ image, command: ['sleep', '300'], labels: { bench: 'start' } })
      await rt.start(id)
      return id
    }),
  )
  const ms = performance.now() - t0
  const running = await Promise.all(ids.map(async (id) => (await rt.inspect(id)).state))
  if (running.some((s) => s !== 'running')) throw new Error(`not all containers run: ${running.join(',')}`)
  await Promise.all(ids.map((id) => rt.remove(id, { force: true })))
  return ms
}

function dockerCli(): string {
  for (const p of ['/usr/local/bin/docker', '/usr/bin/docker']) if (existsSync(p)) return p
  return 'docker'
}

async function timeDockerCliLoop(env: EngineEnv, n: number): Promise<number> {
  const cli = dockerCli()
  const opts = { env: { ...process.env, DOCKER_HOST: `unix://${env.dockerSocket}` } }
  const ids: string[] = []
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const { stdout } = await run(cli, ['run', '-d', '--network', 'host', '--label', 'bench=cli', env.dockerImage, 'sleep', '300'], opts)
    ids.push(stdout.trim())
  }
  const ms = performance.now() - t0
  await run(cli, ['rm', '-f', ...ids], opts)
  return ms
}

/** Runs the three measurements (warm-up container first on each). */
export async function benchStartConcurrently(env: EngineEnv, n = 50): Promise<StartBenchRow[]> {
  const docker = new DockerRuntime({ socketPath: env.dockerSocket, instance: `bench-${randomUUID()}`, stateDir: join(env.dir, 'bench-docker'), allowPull: false })
  const containerd = new ContainerdRuntime({ socketPath: env.containerdSocket, namespace: env.containerdNamespace, stateDir: join(env.dir, 'bench-containerd') })
  try {
    const image = 'swarmkit-test/busybox:latest'
    await containerd.importImage(image, env.imageTar)
    await timeRuntime(docker, env.dockerImage, 1)
    await timeRuntime(containerd, image, 1)
    await timeDockerCliLoop(env, 1)
    const cliMs = await timeDockerCliLoop(env, n)
    const dockerMs = await timeRuntime(docker, env.dockerImage, n)
    const containerdMs = await timeRuntime(containerd, image, n)
    const row = (benchmark: string, totalMs: number): StartBenchRow => ({
      benchmark, containers: n, totalMs, perContainerMs: totalMs / n, speedupVsDockerCli: cliMs / totalMs,
    })
    return [
      row('docker run -d, CLI loop (baseline, same dockerd)', cliMs),
      row('DockerRuntime, concurrent create+start', dockerMs),
      row('ContainerdRuntime, concurrent create+start', containerdMs),
    ]
  } finally {
    await docker.close()
    await containerd.close()
  }
}

/** The rows as a text table. */
export function formatStartBench(rows: readonly StartBenchRow[]): string {
  const lines = rows.map((r) =>
    `${r.benchmark.padEnd(50)} ${String(r.containers).padStart(4)} ${r.totalMs.toFixed(0).padStart(8)} ms ${r.perContainerMs.toFixed(1).padStart(8)} ms/ctr  x${(r.speedupVsDockerCli ?? 1).toFixed(2)} vs CLI`,
  )
  return [`${'benchmark'.padEnd(50)} ${'n'.padStart(4)} ${'to all running'.padStart(11)}`, ...lines].join('\n')
}
