/**
 * The two ways to draw the converge display's writes, both pure (writes in, text out):
 * {@link TtyScreen} redraws lines in place in a terminal with ANSI cursor moves, as Docker's
 * `jsonmessage` display does; {@link PlainScreen} prints a line each time a line changes, for
 * output that is not a terminal (a pipe, a file, CI logs).
 *
 * @module
 */
import { drawBar, lineText } from './lines.ts'
import type { ProgressWrite } from './lines.ts'

/** Turns display writes into the text to write to the output. */
export interface ProgressScreen {
  /** The text that draws `writes` after everything drawn before ('' when nothing changes). */
  render(writes: readonly ProgressWrite[]): string
}

const ESC = '\u001b['

/** The whole line a write draws in a terminal: `<id>: <text> [bar]`. */
function ttyLine(write: ProgressWrite): string {
  const text = lineText(write)
  return write.kind === 'line' && write.bar !== undefined ? `${text} ${drawBar(write.bar)}` : text
}

/**
 * A terminal: each line id keeps its row, rewritten in place (cursor up, clear the line, write,
 * cursor back down); a message is printed below and the rows after it start a new block. The
 * cursor always rests at the start of the row below the block.
 */
export class TtyScreen implements ProgressScreen {
  readonly #columns: number | undefined
  /** The rows of the current block, by id. */
  #rows = new Map<string, number>()
  /** What each row of the block shows. */
  #shown: string[] = []

  /**
   * @param init.columns - the terminal's width: longer lines are cut to it, so that no line wraps
   *   and moving the cursor up by rows still lands on the line to rewrite.
   */
  constructor(init: { readonly columns?: number | undefined } = {}) {
    this.#columns = init.columns !== undefined && init.columns > 0 ? init.columns : undefined
  }

  render(writes: readonly ProgressWrite[]): string {
    let out = ''
    for (const w of writes) {
      const full = ttyLine(w)
      const line = this.#columns === undefined ? full : Array.from(full).slice(0, this.#columns).join('')
      if (w.kind === 'message') {
        out += `${line}\n`
        this.#rows = new Map()
        this.#shown = []
        continue
      }
      const row = this.#rows.get(w.id)
      if (row === undefined) {
        this.#rows.set(w.id, this.#shown.length)
        this.#shown.push(line)
        out += `${line}\n`
        continue
      }
      if (this.#shown[row] === line) continue
      this.#shown[row] = line
      const up = this.#shown.length - row
      out += `${ESC}${up}A\r${ESC}2K${line}\r${ESC}${up}B`
    }
    return out
  }
}

/** Not a terminal: a line each time a line's text changes (bars left out; empty lines skipped). */
export class PlainScreen implements ProgressScreen {
  readonly #last = new Map<string, string>()

  render(writes: readonly ProgressWrite[]): string {
    let out = ''
    for (const w of writes) {
      const line = lineText(w).trimEnd()
      if (w.kind === 'message') {
        out += `${line}\n`
        continue
      }
      if (w.text.trim() === '' || this.#last.get(w.id) === line) continue
      this.#last.set(w.id, line)
      out += `${line}\n`
    }
    return out
  }
}
