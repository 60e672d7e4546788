import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@swarmkit-ts/source'] },
  ssr: { resolve: { conditions: ['@swarmkit-ts/source'] } },
  test: { name: 'docs-check', include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 },
})
