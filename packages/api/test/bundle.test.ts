// A bundled application carries the api's protobuf schemas inside its JavaScript: the program
// below is bundled with esbuild (platform node, format esm, every dependency inlined) into a
// folder that holds nothing else, and run from there. When the codec read its .proto files
// through import.meta.url, the first encode failed with ENOENT (issue 13 #6).
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { bundleAndRun } from '../../../scripts/test-support/esbuild-bundle.ts'

const index = fileURLToPath(new URL('../src/index.ts', import.meta.url))

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
    const run = await bundleAndRun(program)
    expect(run.files).toEqual(['app.mjs'])
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({ name: 'web', labels: { tier: 'front' }, replicas: 3, command: ['httpd', '-f'], parallelism: 1 })
  }, 60_000)
})
