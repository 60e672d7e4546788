import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@swarmkit-ts/source'] },
  ssr: { resolve: { conditions: ['@swarmkit-ts/source'] } },
  test: { name: 'example-api-basics', include: ['test/**/*.test.ts'] },
})
