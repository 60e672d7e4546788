/**
 * From compose files to a stack: load each file (YAML, merge keys, interpolation), merge them in
 * order, and convert the result.
 *
 * @module
 */
import { convertStack, type StackSpec } from './convert-stack.ts'
import type { LookupEnv } from './interpolate.ts'
import { loadComposeFile, type ComposeSource } from './load.ts'
import { mergeComposeFiles } from './merge.ts'

/** Options of {@link composeStack}. */
export interface ComposeStackOptions {
  /** The stack name. */
  readonly namespace: string
  /** Variables for interpolation and for environment entries without a value. */
  readonly env: LookupEnv
  /** Reads a secret's or config's `file:` as written in the compose file. */
  readonly readFile: (path: string) => Uint8Array
  /** The folder relative bind mount sources resolve against (the first compose file's). */
  readonly workingDir?: string
  /** Told each warning (unset variables, ignored keys). */
  readonly warn?: (message: string) => void
}

/**
 * The stack that compose `sources` describe (later files override earlier ones). Throws
 * `ComposeError` (an `InvalidArgumentError`) whose message starts with `file:line: key.path:`.
 */
export function composeStack(sources: readonly ComposeSource[], options: ComposeStackOptions): StackSpec {
  if (sources.length === 0) throw new Error('composeStack: no compose file')
  const warn = options.warn ?? ((): void => {})
  const files = sources.map((s) => loadComposeFile(s, { env: options.env, warn }))
  const stack = convertStack(options.namespace, mergeComposeFiles(files), {
    env: options.env,
    readFile: options.readFile,
    ...(options.workingDir === undefined ? {} : { workingDir: options.workingDir }),
  })
  stack.warnings.forEach(warn)
  return stack
}
