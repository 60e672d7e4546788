/**
 * `@swarmkit-ts/cli`: the `swarmkit` command as a library — {@link run} parses a command line and
 * runs it against a manager's control socket (or a remote manager with a client certificate).
 * The parts an embedder may use on their own are exported too: the converge display
 * ({@link showProgress}, {@link followProgress}, {@link ConvergeTracker}), stacks from compose
 * files ({@link composeStack}, {@link deployStack}, {@link removeStack}), and Docker's Go-template
 * `--format` ({@link parseTemplate}).
 *
 * @module
 */
export { run, type RunIo } from './run.ts'
export type { CommandContext, OutputFormat } from './context.ts'

export {
  showProgress,
  followProgress,
  ConvergeTracker,
  PlainScreen,
  TtyScreen,
  drawBar,
  DEFAULT_MONITOR_MS,
  FOLLOW_RETRY_MS,
  MAX_PROGRESS_BARS,
} from './progress/index.ts'
export type {
  ShowProgressOptions,
  ShowProgressResult,
  ProgressKind,
  FollowProgressOptions,
  ConvergeTrackerInit,
  ProgressOutcome,
  ProgressStep,
  ProgressScreen,
  ProgressWrite,
  ProgressBar,
} from './progress/index.ts'

export { composeStack, type ComposeStackOptions } from './stack/compose.ts'
export type { ComposeSource } from './stack/load.ts'
export type { LookupEnv } from './stack/interpolate.ts'
export type { StackSpec, StackObject } from './stack/convert-stack.ts'
export { deployStack, validateStack, type DeployStackOptions, type DeployResult } from './stack/deploy.ts'
export type { StackAction } from './stack/diff.ts'
export { removeStack, type RemoveStackOptions, type RemovedStack } from './stack/remove.ts'
export { ComposeError } from './stack/tree.ts'
export { NAMESPACE_LABEL, IMAGE_LABEL } from './stack/names.ts'

export { parseTemplate, TemplateError, TEMPLATE_FUNCTIONS, type Template } from './output/template.ts'
