// The embedded schemas (src/generated/proto-sources.ts) are exactly the .proto files of proto/.
import { describeEmbeddedProtos } from '../../../scripts/test-support/embedded-protos.ts'
import { PROTO_SOURCES } from '../src/generated/proto-sources.ts'

describeEmbeddedProtos(new URL('../proto/', import.meta.url), PROTO_SOURCES)
