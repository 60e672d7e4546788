/**
 * What every command gets: where to write, how to format, and the control API it talks to.
 *
 * @module
 */
import type { ControlClient } from '@swarmkit-ts/core'
import type { Template } from './output/template.ts'
import type { RunIo } from './run.ts'

/** Output formats every listing and inspect command accepts (`--format`). */
export type OutputFormat = 'table' | 'json'

/** The context a command runs in (built by `run` from the global flags). */
export interface CommandContext {
  /** Where output and errors go. */
  readonly io: RunIo
  /** Opens (once) and returns the control client: the local socket, or a remote manager with a client certificate. */
  control(): Promise<ControlClient>
  /** `--format` (`table` also for a Go template). */
  readonly format: OutputFormat
  /** `--format` given as a Go template (`{{.ID}}`, `table {{.ID}}\t{{.Name}}`), parsed. */
  readonly template?: Template | undefined
  /** `--quiet`: ids only. */
  readonly quiet: boolean
  /** `--debug`: stack traces on errors. */
  readonly debug: boolean
  /** Aborted on Ctrl-C: long operations (progress, logs --follow) stop and return. */
  readonly signal: AbortSignal
}
