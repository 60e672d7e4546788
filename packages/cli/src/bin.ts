#!/usr/bin/env node
/**
 * The `swarmkit` executable: SIGINT and SIGTERM abort the running command (a waiting command
 * returns, `node start` closes its node); a second signal exits at once with status 130.
 *
 * @module
 */
import { run } from './run.ts'

const stop = new AbortController()
const onSignal = (): void => {
  if (stop.signal.aborted) process.exit(130)
  stop.abort()
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: stop.signal })
process.removeListener('SIGINT', onSignal)
process.removeListener('SIGTERM', onSignal)
