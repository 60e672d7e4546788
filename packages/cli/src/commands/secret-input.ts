/**
 * Reading a secret (an unlock key) typed at a prompt or piped in.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { CommandContext } from '../context.ts'

/** What {@link readSecretLine} needs of a terminal's standard input (`process.stdin` when it is a TTY). */
export interface SecretTerminal {
  readonly isTTY?: boolean | undefined
  setRawMode(raw: boolean): unknown
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown
  resume(): unknown
  pause(): unknown
}

/**
 * The first line of standard input, trimmed. On a terminal (no `ctx.io.stdin` given and
 * `process.stdin` a TTY) it writes `prompt` and reads without echo, as Docker's `swarm unlock`
 * does: Backspace erases, Enter ends, Ctrl-C or Ctrl-D on an empty line give up
 * (`InvalidArgumentError` naming `unlockKey`). Otherwise the prompt is not written and the line is read as piped.
 */
export async function readSecretLine(ctx: CommandContext, prompt: string, terminal: SecretTerminal = process.stdin): Promise<string> {
  if (ctx.io.stdin === undefined && terminal.isTTY === true) {
    ctx.io.stdout.write(prompt)
    try {
      return await readWithoutEcho(terminal)
    } finally {
      ctx.io.stdout.write('\n')
    }
  }
  const source: AsyncIterable<string | Uint8Array> = ctx.io.stdin ?? (process.stdin as AsyncIterable<Uint8Array>)
  let text = ''
  for await (const chunk of source) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    if (text.includes('\n')) break
  }
  return (text.split('\n')[0] ?? '').trim()
}

function readWithoutEcho(terminal: SecretTerminal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let line = ''
    const done = (settle: () => void): void => {
      terminal.off('data', onData)
      terminal.setRawMode(false)
      terminal.pause()
      settle()
    }
    const onData = (chunk: Buffer | string): void => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(() => resolve(line.trim()))
        if (ch === '\u0003' || (ch === '\u0004' && line === '')) return done(() => reject(new InvalidArgumentError('unlockKey', 'no unlock key entered')))
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1)
        else if (ch >= ' ') line += ch
      }
    }
    terminal.setRawMode(true)
    terminal.on('data', onData)
    terminal.resume()
  })
}
