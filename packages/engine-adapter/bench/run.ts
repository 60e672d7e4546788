/**
 * `pnpm bench` for @swarmkit-ts/engine-adapter: start N containers (`sleep 300`) concurrently and
 * time until all run, per runtime — FakeRuntime and ProcessRuntime always; DockerRuntime,
 * ContainerdRuntime and the `docker run -d` CLI loop baseline (same dockerd, same run) when the
 * test engines can run here (root + packages; BENCH_ENGINES=0 skips them). Prints a table and
 * writes bench-results/engine-adapter.json at the repository root. BENCH_CONTAINERS sets N (50).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FakeRuntime, ProcessRuntime, createBusyboxImage, type ContainerRuntime } from '@swarmkit-ts/engine-adapter'
import { engineAvailability, startEngine, stopEngine } from '../test/helpers/engines.ts'
import { benchStartConcurrently, type StartBenchRow } from './engine-concurrent-start.ts'

const n = Number(process.env['BENCH_CONTAINERS'] ?? 50)
const log = (s: string): void => void process.stderr.write(`${s}\n`)

/** Creates and starts `count` containers at once; returns ms until all run, then removes them. */
async function timeStart(rt: ContainerRuntime, image: string, count: number): Promise<number> {
  const t0 = performance.now()
  const ids = await Promise.all(
    Array.from({ length: count }, async () => {
      const id = await rt.create({ image, command: ['sleep', '300'], labels: { bench: 'start' } })
      await rt.start(id)
      return id
    }),
  )
  const ms = performance.now() - t0
  const states = await Promise.all(ids.map(async (id) => (await rt.inspect(id)).state))
  if (states.some((s) => s !== 'running')) throw new Error(`not all containers run: ${states.join(',')}`)
  await Promise.all(ids.map((id) => rt.remove(id, { force: true })))
  return ms
}

async function measure(rt: ContainerRuntime, image: string): Promise<number> {
  await timeStart(rt, image, 1) // warm-up
  return timeStart(rt, image, n)
}

function table(rows: readonly StartBenchRow[]): string {
  const head = `${'benchmark'.padEnd(52)} ${'n'.padStart(4)} ${'to all running'.padStart(15)} ${'per container'.padStart(14)}  vs docker run -d loop`
  const lines = rows.map((r) => {
    const ratio = r.speedupVsDockerCli === undefined ? '—' : `${r.speedupVsDockerCli.toFixed(2)}× faster`
    return `${r.benchmark.padEnd(52)} ${String(r.containers).padStart(4)} ${`${r.totalMs.toFixed(0)} ms`.padStart(15)} ${`${r.perContainerMs.toFixed(2)} ms`.padStart(14)}  ${ratio}`
  })
  return [head, ...lines].join('\n')
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const load0 = loadavg()[0] ?? 0
  const rows: StartBenchRow[] = []
  const row = (benchmark: string, totalMs: number): StartBenchRow => ({ benchmark, containers: n, totalMs, perContainerMs: totalMs / n, speedupVsDockerCli: undefined })

  log(`FakeRuntime: ${n} containers`)
  const fake = new FakeRuntime()
  rows.push(row('FakeRuntime, concurrent create+start', await measure(fake, 'busybox:fake')))
  await fake.close()

  log(`ProcessRuntime: ${n} processes (sh shim + setsid + busybox sleep)`)
  const dir = await mkdtemp(join(tmpdir(), 'swarmkit-bench-process-'))
  try {
    const image = await createBusyboxImage(join(dir, 'bin'))
    const proc = await ProcessRuntime.open({ stateDir: join(dir, 'state'), images: { busybox: image } })
    rows.push(row('ProcessRuntime, concurrent create+start', await measure(proc, 'busybox')))
    await proc.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }

  const docker = engineAvailability('docker')
  const containerd = engineAvailability('containerd')
  let enginesNote: string | undefined
  if (process.env['BENCH_ENGINES'] === '0') enginesNote = 'skipped: BENCH_ENGINES=0'
  else if (!docker.run) enginesNote = `skipped: ${docker.reason}`
  else if (!containerd.run) enginesNote = `skipped: ${containerd.reason}`
  if (enginesNote === undefined) {
    log('Docker and containerd (private test engines) with the docker run -d loop as baseline')
    await startEngine('docker')
    const env = await startEngine('containerd')
    try {
      const engineRows = await benchStartConcurrently(env, n)
      const cliMs = engineRows[0]?.totalMs
      for (const r of rows) r.speedupVsDockerCli = cliMs === undefined ? undefined : cliMs / r.totalMs
      rows.push(...engineRows)
    } finally {
      await stopEngine('containerd')
      await stopEngine('docker')
    }
  } else log(`Docker/containerd ${enginesNote}`)

  process.stdout.write(`${table(rows)}\n${enginesNote === undefined ? '' : `(docker/containerd and the CLI baseline ${enginesNote})\n`}`)
  const out = fileURLToPath(new URL('../../../bench-results/', import.meta.url))
  await mkdir(out, { recursive: true })
  const result = { package: '@swarmkit-ts/engine-adapter', startedAt, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, containers: n, engines: enginesNote ?? 'measured', rows }
  await writeFile(join(out, 'engine-adapter.json'), `${JSON.stringify(result, null, 2)}\n`)
}

await main()
