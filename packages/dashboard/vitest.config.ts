import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@swarmkit-ts/source'] },
  ssr: { resolve: { conditions: ['@swarmkit-ts/source'] } },
  test: {
    name: '@swarmkit-ts/dashboard',
    include: ['test/**/*.test.ts'],
  },
})
