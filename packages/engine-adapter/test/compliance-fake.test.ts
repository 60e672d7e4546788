import { describeContainerRuntimeCompliance } from '@swarmkit-ts/engine-adapter/compliance'
import { FAKE_RUNTIME_CAPABILITIES, FakeRuntime } from '../src/index.ts'

describeContainerRuntimeCompliance({
  name: 'FakeRuntime',
  setup: () => ({ runtime: new FakeRuntime(), image: 'busybox:fake' }),
  teardown: async ({ runtime }) => {
    await runtime.close()
  },
  capabilities: FAKE_RUNTIME_CAPABILITIES,
})
