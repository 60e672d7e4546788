// The main entry point never loads a gRPC stack: @grpc/grpc-js is an optional peer dependency,
// imported only by '@swarmkit-ts/raft/grpc' (src/grpc.ts). A store-only or simulation-only user
// installs and loads no gRPC; an export added to src/index.ts from a gRPC module fails here.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

/** The bare package names an entry point imports (its own files bundled, packages external). */
async function packagesImportedBy(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../src/${entry}`, import.meta.url))],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    write: false,
    outdir: 'out',
    metafile: true,
    logLevel: 'silent',
  })
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path))
  return [...new Set(imports.filter((p) => !p.startsWith('node:')))].sort()
}

describe('entry points', () => {
  it('the main entry imports no gRPC package', async () => {
    expect(await packagesImportedBy('index.ts')).toEqual(['@swarmkit-ts/api', 'eventemitter3', 'protobufjs'])
  })

  it('the ./grpc entry is the one that imports @grpc/grpc-js', async () => {
    expect(await packagesImportedBy('grpc.ts')).toContain('@grpc/grpc-js')
  })
})
