/**
 * Splits a byte stream into lines without `node:readline` (which costs several times more per
 * line): the protocol's hot path carries thousands of short lines a second in each direction.
 */
import type { Readable } from 'node:stream'

/**
 * Calls `onLine` for every complete `\n`-terminated line of `input` (UTF-8, without the newline),
 * in order; `onEnd` once the stream ends (a last unterminated line is delivered first).
 */
export function readLines(input: Readable, onLine: (line: string) => void, onEnd?: () => void): void {
  let rest = ''
  input.setEncoding('utf8')
  input.on('data', (chunk: string) => {
    let start = 0
    let nl = chunk.indexOf('\n')
    if (nl < 0) {
      rest += chunk
      return
    }
    // The first line may continue what the previous chunk left.
    const first = rest + chunk.slice(0, nl)
    rest = ''
    onLine(first)
    start = nl + 1
    while ((nl = chunk.indexOf('\n', start)) >= 0) {
      onLine(chunk.slice(start, nl))
      start = nl + 1
    }
    rest = chunk.slice(start)
  })
  input.on('end', () => {
    if (rest !== '') onLine(rest)
    rest = ''
    onEnd?.()
  })
}
