/**
 * Docker's listing look with cli-table3: no borders, a header row in capitals, left-aligned
 * columns separated by three spaces, no trailing blanks.
 *
 * @module
 */
import Table from 'cli-table3'

const NO_BORDER = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '',
} as const

/** Renders `rows` under `head` as Docker does (`ID   NAME   MODE …`), ending with a newline. */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const table = new Table({ head: [...head], chars: NO_BORDER, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 3, compact: true } })
  for (const row of rows) table.push([...row])
  const lines = table.toString().split('\n').map((l) => l.trimEnd())
  return `${lines.filter((l, i) => l !== '' || i === 0).join('\n')}\n`
}

/** Docker's short id: the first 12 characters (`--no-trunc` shows the whole id). */
export function shortId(id: string, noTrunc = false): string {
  return noTrunc ? id : id.slice(0, 12)
}
