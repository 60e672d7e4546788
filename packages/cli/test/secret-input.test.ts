import { EventEmitter } from 'node:events'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { readSecretLine, type SecretTerminal } from '../src/commands/secret-input.ts'
import type { CommandContext } from '../src/context.ts'

/** A terminal that records raw mode and echoes nothing itself. */
class FakeTerminal extends EventEmitter implements SecretTerminal {
  readonly isTTY = true
  readonly raw: boolean[] = []
  setRawMode(raw: boolean): this {
    this.raw.push(raw)
    return this
  }
  resume(): this {
    return this
  }
  pause(): this {
    return this
  }
}

function context(stdin?: string): { ctx: CommandContext; out: string[] } {
  const out: string[] = []
  const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: () => true }, ...(stdin === undefined ? {} : { stdin: [stdin] }) }
  return { ctx: { io } as unknown as CommandContext, out }
}

describe('readSecretLine', () => {
  it('on a terminal: prompts, reads in raw mode without echo (Backspace erases), ends at Enter and restores the mode', async () => {
    const terminal = new FakeTerminal()
    const { ctx, out } = context()
    const key = readSecretLine(ctx, 'Please enter unlock key: ', terminal)
    terminal.emit('data', Buffer.from('SWMKEY-1-abx'))
    terminal.emit('data', '\u007fc\r')
    expect(await key).toBe('SWMKEY-1-abc')
    expect(out).toEqual(['Please enter unlock key: ', '\n'])
    expect(terminal.raw).toEqual([true, false])
    expect(terminal.listenerCount('data')).toBe(0)
  })

  it('on a terminal: Ctrl-C gives up with InvalidArgumentError naming unlockKey, the mode restored', async () => {
    const terminal = new FakeTerminal()
    const { ctx } = context()
    const key = readSecretLine(ctx, 'Please enter unlock key: ', terminal)
    terminal.emit('data', 'abc\u0003')
    await expect(key).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(key).rejects.toMatchObject({ field: 'unlockKey' })
    expect(terminal.raw).toEqual([true, false])
  })

  it('piped: no prompt, the first line trimmed', async () => {
    const { ctx, out } = context('  SWMKEY-1-xyz  \nmore\n')
    expect(await readSecretLine(ctx, 'Please enter unlock key: ', new FakeTerminal())).toBe('SWMKEY-1-xyz')
    expect(out).toEqual([])
  })
})
