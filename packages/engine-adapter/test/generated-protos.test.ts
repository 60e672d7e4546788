// The embedded schemas (src/generated/proto-sources.ts) are exactly the .proto files of proto/:
// a .proto edited without `pnpm generate:protos` fails here, and so fails CI.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROTO_SOURCES } from '../src/generated/proto-sources.ts'

const protoDir = new URL('../proto/', import.meta.url).pathname

function protoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.proto'))
    .map((e) => relative(protoDir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort()
}

describe('generated proto sources', () => {
  it('embed every .proto file of proto/ and nothing else', () => {
    expect(Object.keys(PROTO_SOURCES).sort()).toEqual(protoFiles(protoDir))
  })

  it('hold each file\'s current text (run `pnpm generate:protos` after editing a .proto)', () => {
    for (const [file, text] of Object.entries(PROTO_SOURCES)) {
      expect(text, file).toBe(readFileSync(join(protoDir, file), 'utf8'))
    }
  })
})

describe('containerdProtoRoot', () => {
  it('parses the embedded text into the same definitions as loading the files with their imports', async () => {
    const { containerdProtoRoot } = await import('../src/containerd/containerd-grpc.ts')
    const { default: protobuf } = await import('protobufjs')
    const fromFiles = new protobuf.Root()
    fromFiles.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') || target.startsWith('/') ? target : protoDir + target)
    fromFiles.loadSync(protoFiles(protoDir), { keepCase: false })
    fromFiles.resolveAll()
    expect(containerdProtoRoot().toJSON()).toEqual(fromFiles.toJSON())
    const t = containerdProtoRoot().lookupType('containerd.services.tasks.v1.CreateTaskRequest')
    expect(t.fieldsArray.map((f) => f.name)).toContain('containerId')
  })
})
