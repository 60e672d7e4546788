/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>

/**
 * A structured logger. Components receive one explicitly (there is no global logger); the default
 * is {@link silentLogger}, so a library stays quiet unless its embedder asks otherwise.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger
}

const noop = (): void => {}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
}

/** Log levels, in increasing severity. */
export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40 } as const
/** A log level name. */
export type LogLevel = keyof typeof LogLevel

/** Construction options for {@link ConsoleLogger}. */
export interface ConsoleLoggerInit {
  /** Lowest level written. @default 'info' */
  level?: LogLevel
  /** Fields added to every line. */
  bindings?: LogFields
  /** Where lines go. @default console */
  sink?: Pick<Console, 'debug' | 'info' | 'warn' | 'error'>
}

/** A logger that writes one line of JSON fields per call to the console (or another sink). */
export class ConsoleLogger implements Logger {
  readonly #level: LogLevel
  readonly #bindings: LogFields
  readonly #sink: Pick<Console, 'debug' | 'info' | 'warn' | 'error'>

  constructor(init: ConsoleLoggerInit = {}) {
    this.#level = init.level ?? 'info'
    this.#bindings = init.bindings ?? {}
    this.#sink = init.sink ?? console
  }

  #write(level: LogLevel, message: string, fields?: LogFields): void {
    if (LogLevel[level] < LogLevel[this.#level]) return
    const all = { ...this.#bindings, ...fields }
    const rest = Object.keys(all).length === 0 ? '' : ` ${JSON.stringify(all, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`
    this.#sink[level](`${level} ${message}${rest}`)
  }

  debug(message: string, fields?: LogFields): void {
    this.#write('debug', message, fields)
  }
  info(message: string, fields?: LogFields): void {
    this.#write('info', message, fields)
  }
  warn(message: string, fields?: LogFields): void {
    this.#write('warn', message, fields)
  }
  error(message: string, fields?: LogFields): void {
    this.#write('error', message, fields)
  }
  child(bindings: LogFields): Logger {
    return new ConsoleLogger({ level: this.#level, bindings: { ...this.#bindings, ...bindings }, sink: this.#sink })
  }
}
