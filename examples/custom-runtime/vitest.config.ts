import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@swarmkit-ts/source'] },
  ssr: { resolve: { conditions: ['@swarmkit-ts/source'] } },
  test: { name: 'example-custom-runtime', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
})
