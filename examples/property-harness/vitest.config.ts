import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@swarmkit-ts/source'] },
  ssr: { resolve: { conditions: ['@swarmkit-ts/source'] } },
  test: { name: 'example-property-harness', include: ['test/**/*.test.ts'], testTimeout: 120_000 },
})
