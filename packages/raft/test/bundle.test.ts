// A bundled application carries raft's protobuf schemas inside its JavaScript: the program below
// is bundled with esbuild (platform node, format esm, every dependency inlined) into a folder
// that holds nothing else, and run from there. When a codec read its .proto through
// import.meta.url, the first encode failed with ENOENT (issue 13 #6).
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { bundleAndRun } from '../../../scripts/test-support/esbuild-bundle.ts'

const src = fileURLToPath(new URL('../src/', import.meta.url))

const program = `
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileRaftStorage, decodeMessage, encodeMessage } from ${JSON.stringify(join(src, 'index.ts'))}
import { decodeProposal, encodeProposal } from ${JSON.stringify(join(src, 'driver', 'raft-node-codec.ts'))}

const m = decodeMessage(encodeMessage({ type: 'app', from: 2n ** 64n - 1n, to: 2n, term: 3, logTerm: 2, index: 7, commit: 6,
  entries: [{ term: 3, index: 8, type: 'normal', data: new Uint8Array([1, 2]) }] }))
const p = decodeProposal(encodeProposal({ requestId: new Uint8Array([9]), payload: new Uint8Array([8, 7]) }))
const dir = await mkdtemp(join(tmpdir(), 'raft-bundle-wal-'))
const wal = await FileRaftStorage.open(dir)
wal.append([{ term: 1, index: 1, type: 'normal', data: new Uint8Array([5]) }])
await wal.sync()
await wal.close()
const reopened = await FileRaftStorage.open(dir)
const entries = reopened.entries(1, 2, Infinity)
await reopened.close()
await rm(dir, { recursive: true })
console.log(JSON.stringify({ from: m.from.toString(), entries: m.type === 'app' ? m.entries.length : -1,
  payload: [...p.payload], wal: entries.map((e) => [e.index, [...e.data]]) }))
`

describe('raft bundled with esbuild', () => {
  it('encodes messages, proposals and WAL records with no proto/ folder beside the bundle', async () => {
    const run = await bundleAndRun(program, { requireShim: true })
    expect(run.files).toEqual(['app.mjs'])
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({ from: '18446744073709551615', entries: 1, payload: [8, 7], wal: [[1, [5]]] })
  }, 60_000)
})
