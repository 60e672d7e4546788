#!/usr/bin/env node
/**
 * The `swarmkit` executable.
 *
 * @module
 */
import { run } from './run.ts'

process.exitCode = await run(process.argv.slice(2))
