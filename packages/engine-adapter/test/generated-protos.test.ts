// The embedded schemas (src/generated/proto-sources.ts) are exactly the .proto files of proto/.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeEmbeddedProtos, protoFiles } from '../../../scripts/test-support/embedded-protos.ts'
import { PROTO_SOURCES } from '../src/generated/proto-sources.ts'

const protoDir = fileURLToPath(new URL('../proto/', import.meta.url))

describeEmbeddedProtos(new URL('../proto/', import.meta.url), PROTO_SOURCES)

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
