import { cp } from 'node:fs/promises'
import { defineConfig } from 'tsup'

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'node20',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
  },
  {
    // The page's script, bundled for the browser, beside the page's static files.
    entry: { 'assets/app': 'client/main.ts' },
    format: ['iife'],
    platform: 'browser',
    target: 'chrome110',
    outExtension: () => ({ js: '.js' }),
    dts: false,
    sourcemap: false,
    clean: false,
    minify: true,
    onSuccess: async () => {
      await cp('src/assets', 'dist/assets', { recursive: true })
    },
  },
])
