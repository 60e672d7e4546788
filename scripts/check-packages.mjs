#!/usr/bin/env node
// Lints every built package as npm would ship it: publint (strict) and
// @arethetypeswrong/cli on the packed tarball with the ESM-only profile.
import { execFileSync } from 'node:child_process'
import { readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const dirs = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'packages', d.name, 'package.json')))
  .map((d) => join(root, 'packages', d.name))

let failed = 0
for (const dir of dirs) {
  const name = dir.split('/').at(-1)
  for (const [tool, args] of [
    ['publint', ['exec', 'publint', '--strict']],
    ['attw', ['exec', 'attw', '--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped']],
  ]) {
    try {
      const out = execFileSync('pnpm', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      process.stdout.write(`ok   ${tool} ${name}\n`)
      if (process.env.VERBOSE) process.stdout.write(out)
    } catch (err) {
      failed++
      process.stdout.write(`FAIL ${tool} ${name}\n${err.stdout ?? ''}${err.stderr ?? ''}\n`)
    }
  }
}
if (failed > 0) {
  process.stderr.write(`${failed} package check(s) failed\n`)
  process.exit(1)
}
