// A bundled application carries the containerd protobuf schemas inside its JavaScript: the program
// below is bundled with esbuild (platform node, format esm, every dependency but dockerode inlined)
// into a folder that holds nothing else, and run from there. When the containerd client loaded its
// .proto files from the package's proto/ folder, it failed with ENOENT (issue 13 #6).
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'

const src = fileURLToPath(new URL('../src/', import.meta.url))
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const program = `
import { containerdProtoRoot } from ${JSON.stringify(join(src, 'containerd', 'containerd-grpc.ts'))}

const t = containerdProtoRoot().lookupType('containerd.services.containers.v1.Container')
const bytes = t.encode(t.fromObject({ id: 'c1', labels: { a: 'b' }, createdAt: { seconds: 5, nanos: 6 } })).finish()
const back = t.toObject(t.decode(bytes), { longs: Number })
console.log(JSON.stringify({ id: back.id, labels: back.labels, createdAt: back.createdAt }))
`

describe('engine-adapter bundled with esbuild', () => {
  it('parses the containerd schemas with no proto/ folder beside the bundle', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engine-adapter-bundle-'))
    dirs.push(dir)
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
      external: ['dockerode'],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'silent',
    })
    await rm(entry)
    expect(await readdir(dir)).toEqual(['app.mjs'])
    const run = spawnSync(process.execPath, ['app.mjs'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({ id: 'c1', labels: { a: 'b' }, createdAt: { seconds: 5, nanos: 6 } })
  }, 60_000)
})
