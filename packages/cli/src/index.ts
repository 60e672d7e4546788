/**
 * `@swarmkit-ts/cli`: the `swarmkit` command as a library — {@link run} parses a command line and
 * runs it against a manager's control socket (or a remote manager with a client certificate).
 *
 * @module
 */
export { run, type RunIo } from './run.ts'
