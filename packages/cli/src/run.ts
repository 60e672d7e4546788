/**
 * The entry point of the `swarmkit` command: parses `argv` and runs the command.
 *
 * @module
 */

/** Where a command reads and writes: the process's streams, or a test's buffers. */
export interface RunIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean | undefined }
  readonly stderr: { write(text: string): unknown }
}

/**
 * Runs `swarmkit <argv…>` and resolves with the exit code (0 on success). Errors are written to
 * `io.stderr` as one line; never throws.
 */
export async function run(argv: readonly string[], io: RunIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  await Promise.resolve()
  io.stderr.write(`swarmkit: unknown command ${argv.join(' ')}\n`)
  return 2
}
