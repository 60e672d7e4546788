// A bundled application carries the containerd protobuf schemas inside its JavaScript: the program
// below is bundled with esbuild (platform node, format esm, every dependency but dockerode inlined)
// into a folder that holds nothing else, and run from there. When the containerd client loaded its
// .proto files from the package's proto/ folder, it failed with ENOENT (issue 13 #6).
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { bundleAndRun } from '../../../scripts/test-support/esbuild-bundle.ts'

const src = fileURLToPath(new URL('../src/', import.meta.url))

const program = `
import { containerdProtoRoot } from ${JSON.stringify(join(src, 'containerd', 'containerd-grpc.ts'))}

const t = containerdProtoRoot().lookupType('containerd.services.containers.v1.Container')
const bytes = t.encode(t.fromObject({ id: 'c1', labels: { a: 'b' }, createdAt: { seconds: 5, nanos: 6 } })).finish()
const back = t.toObject(t.decode(bytes), { longs: Number })
console.log(JSON.stringify({ id: back.id, labels: back.labels, createdAt: back.createdAt }))
`

describe('engine-adapter bundled with esbuild', () => {
  it('parses the containerd schemas with no proto/ folder beside the bundle', async () => {
    const run = await bundleAndRun(program, { requireShim: true, external: ['dockerode'] })
    expect(run.files).toEqual(['app.mjs'])
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({ id: 'c1', labels: { a: 'b' }, createdAt: { seconds: 5, nanos: 6 } })
  }, 60_000)
})
