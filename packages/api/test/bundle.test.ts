// A bundled application carries the api's protobuf schemas inside its JavaScript: the program
// below is bundled with esbuild (platform node, format esm, every dependency inlined) into a
// folder that holds nothing else, and run from there. When the codec read its .proto files
// through import.meta.url, the first encode failed with ENOENT (issue 13 #6).
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'

const index = fileURLToPath(new URL('../src/index.ts', import.meta.url))
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const program = `
import { decodeSpec, encodeSpec, withServiceDefaults } from ${JSON.stringify(index)}

const spec = withServiceDefaults({
  annotations: { name: 'web', labels: { tier: 'front' } },
  mode: { replicated: { replicas: 3 } },
  task: { container: { image: 'busybox', command: ['httpd', '-f'] } },
})
const back = decodeSpec('service', encodeSpec('service', spec))
console.log(JSON.stringify({ name: back.annotations.name, labels: back.annotations.labels, replicas: back.mode.replicated?.replicas,
  command: back.task.container?.command, parallelism: back.update?.parallelism }))
`

describe('api bundled with esbuild', () => {
  it('encodes and decodes a spec with no proto/ folder beside the bundle', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'api-bundle-'))
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
      logLevel: 'silent',
    })
    await rm(entry)
    expect(await readdir(dir)).toEqual(['app.mjs'])
    const run = spawnSync(process.execPath, ['app.mjs'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({ name: 'web', labels: { tier: 'front' }, replicas: 3, command: ['httpd', '-f'], parallelism: 1 })
  }, 60_000)
})
