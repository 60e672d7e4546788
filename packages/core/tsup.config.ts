import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/testing.ts'],
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
  // Chunks: the simulator (and @swarmkit-ts/testkit) load only when Cluster.simulate is first called.
  splitting: true,
})
