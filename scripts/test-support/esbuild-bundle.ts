/**
 * Shared by the packages' tests: bundles a small program with esbuild (platform node, format esm,
 * every dependency inlined, sources through the `@swarmkit-ts/source` condition) into a folder
 * that holds nothing else, and runs it from there — what an application bundled by its author
 * does. A schema read from disk at run time fails such a run with ENOENT.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'

/** What a bundled run left and printed. */
export interface BundledRun {
  /** The files of the bundle's folder before the run (the bundle alone). */
  readonly files: readonly string[]
  readonly stdout: string
  readonly stderr: string
  readonly status: number | null
}

/** Options of {@link bundleAndRun}. */
export interface BundleOptions {
  /** Defines `require` for CommonJS dependencies (grpc-js, protobufjs) inside the ESM bundle. */
  readonly requireShim?: boolean
  /** Packages left out of the bundle. */
  readonly external?: readonly string[]
}

/** Bundles `program` (TypeScript source; import by absolute path) and runs it in an empty folder. */
export async function bundleAndRun(program: string, options: BundleOptions = {}): Promise<BundledRun> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmkit-bundle-'))
  try {
    const entry = join(dir, 'entry.ts')
    await writeFile(entry, program)
    await build({
      entryPoints: [entry],
      outfile: join(dir, 'app.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@swarmkit-ts/source'],
      external: [...(options.external ?? [])],
      ...(options.requireShim === true ? { banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } } : {}),
      logLevel: 'silent',
    })
    await rm(entry)
    const files = await readdir(dir)
    const run = spawnSync(process.execPath, ['app.mjs'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
    return { files, stdout: run.stdout, stderr: run.stderr, status: run.status }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
