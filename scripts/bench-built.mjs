#!/usr/bin/env node
// Runs a benchmark on the code as it ships, not through tsx: the entry file and the sources of its
// own package are bundled with esbuild (no keepNames, the same transform tsup applies), every
// package import resolves as an installed package would (sibling workspace packages through
// their built dist/, so build them first), and the bundle runs under plain node.
//
// tsx keeps function names by wrapping every function it creates in a `__name(...)` call; in
// closure-heavy hot paths that is several percent of a benchmark which users never pay.
//
// Usage: node scripts/bench-built.mjs <entry.ts> [node flags…]
//   (run from anywhere; the bundle is written next to the entry as .<name>.built.mjs so relative
//   paths inside the benchmark keep working, and removed afterwards)
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { build } from 'esbuild'

const [entryArg, ...nodeFlags] = process.argv.slice(2)
if (entryArg === undefined) {
  process.stderr.write('usage: node scripts/bench-built.mjs <entry.ts> [node flags…]\n')
  process.exit(2)
}
const entry = resolve(entryArg)
const out = join(dirname(entry), `.${basename(entry).replace(/\.ts$/, '')}.built.mjs`)
await build({
  entryPoints: [entry],
  outfile: out,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
})
try {
  const r = spawnSync(process.execPath, [...nodeFlags, out], { stdio: 'inherit' })
  process.exitCode = r.status ?? 1
} finally {
  rmSync(out, { force: true })
}
