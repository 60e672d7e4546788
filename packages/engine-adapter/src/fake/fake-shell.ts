import { FakeProcessKilled, type FakeProcess } from './fake-process.ts'
import { parseShell, type Redirect, type ShellNode, type Word } from './fake-shell-parse.ts'

/** Output sinks of a running fake program. */
export interface FakeIO {
  out: (text: string) => void
  err: (text: string) => void
}

/** What a fake program gets besides its argv. */
export interface FakeProgramContext {
  /** The simulated process (clock, files, sleeps, signals, listening). */
  process: FakeProcess
  /** Environment of this program. */
  env: Readonly<Record<string, string>>
  /** Output of this program (after redirections). */
  io: FakeIO
  /** Runs another program by name, as a shell would (for `sh`, `exec`, healthchecks). */
  run: (argv: readonly string[], io: FakeIO, env?: Readonly<Record<string, string>>) => Promise<number>
}

/**
 * A program the fake runtime can run as a container's command: resolves with the exit code.
 * It lets {@link FakeProcessKilled} (thrown by the process's sleeps once killed) propagate.
 */
export type FakeProgram = (argv: readonly string[], ctx: FakeProgramContext) => Promise<number>

/** A lookup of programs by name (`sleep`, `/bin/sleep`, or a custom name). */
export type FakeProgramLookup = (name: string) => FakeProgram | undefined

class ShellExit extends Error {
  readonly code: number
  constructor(code: number) {
    super(`exit ${code}`)
    this.code = code
  }
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s

/** Interprets a parsed script against a {@link FakeProcess}. */
class Shell {
  status = 0
  readonly #vars: Map<string, string>
  readonly #traps = new Map<string, string>()
  readonly #proc: FakeProcess
  readonly #positional: readonly string[]
  readonly #ctx: FakeProgramContext

  constructor(ctx: FakeProgramContext, positional: readonly string[]) {
    this.#ctx = ctx
    this.#proc = ctx.process
    this.#vars = new Map(Object.entries(ctx.env))
    this.#positional = positional
    this.#proc.disposition = (sig) => {
      const action = this.#traps.get(sig)
      return action === undefined ? 'default' : action === '' ? 'ignore' : 'handle'
    }
  }

  async main(node: ShellNode): Promise<number> {
    try {
      return await this.#exec(node, this.#ctx.io)
    } catch (err) {
      if (err instanceof ShellExit) return err.code
      throw err
    }
  }

  #lookupVar(name: string): string | undefined {
    if (name === '?') return String(this.status)
    if (name === '#') return String(Math.max(0, this.#positional.length - 1))
    if (/^[0-9]$/.test(name)) return this.#positional[Number(name)]
    return this.#vars.get(name)
  }

  /** Expands a word into fields (unquoted expansions are split on whitespace). */
  #expand(word: Word): string[] {
    const fields: string[] = []
    let cur: string | undefined
    for (const part of word) {
      if (part.kind === 'lit') {
        cur = (cur ?? '') + part.text
        continue
      }
      let value = this.#lookupVar(part.name)
      if (part.fallback !== undefined && (value === undefined || (part.colon && value === ''))) value = this.#expand(part.fallback).join(' ')
      if (part.quoted) {
        cur = (cur ?? '') + (value ?? '')
        continue
      }
      const pieces = (value ?? '').split(/[ \t\n]+/)
      pieces.forEach((piece, i) => {
        if (i > 0) {
          if (cur !== undefined && cur !== '') fields.push(cur)
          cur = undefined
        }
        if (piece !== '') cur = (cur ?? '') + piece
      })
    }
    if (cur !== undefined) fields.push(cur)
    return fields
  }

  async #checkTrap(io: FakeIO): Promise<void> {
    if (this.#proc.pendingSignal === undefined) return
    const action = this.#traps.get(this.#proc.pendingSignal)
    this.#proc.pendingSignal = undefined
    if (action === undefined || action === '') return
    await this.#exec(parseShell(action), io)
  }

  async #exec(node: ShellNode, io: FakeIO): Promise<number> {
    this.#proc.check()
    switch (node.k) {
      case 'cmd':
        this.status = await this.#simple(node.words, node.redirects, io)
        await this.#checkTrap(io)
        return this.status
      case 'seq':
        for (const item of node.items) await this.#exec(item, io)
        return this.status
      case 'and':
      case 'or': {
        const left = await this.#exec(node.left, io)
        if ((node.k === 'and') === (left === 0)) return this.#exec(node.right, io)
        return left
      }
      case 'while':
      case 'until': {
        let last = 0
        for (;;) {
          const c = await this.#exec(node.cond, io)
          if ((node.k === 'while') !== (c === 0)) break
          last = await this.#exec(node.body, io)
        }
        this.status = last
        return last
      }
      case 'if': {
        const c = await this.#exec(node.cond, io)
        if (c === 0) return this.#exec(node.then, io)
        if (node.otherwise !== undefined) return this.#exec(node.otherwise, io)
        this.status = 0
        return 0
      }
      case 'for': {
        this.status = 0
        for (const value of node.items.flatMap((w) => this.#expand(w))) {
          this.#vars.set(node.name, value)
          await this.#exec(node.body, io)
        }
        return this.status
      }
    }
  }

  async #simple(words: readonly Word[], redirects: readonly Redirect[], parentIo: FakeIO): Promise<number> {
    let io = parentIo
    for (const r of redirects) {
      const sink = r.to === 'null' ? () => {} : r.to === 'stderr' ? io.err : io.out
      io = r.fd === 1 ? { out: sink, err: io.err } : { out: io.out, err: sink }
    }
    const fields = words.flatMap((w) => this.#expand(w))
    const assigns: [string, string][] = []
    while (fields.length > 0) {
      const m = ASSIGNMENT.exec(fields[0] ?? '')
      if (m === null) break
      assigns.push([m[1] ?? '', m[2] ?? ''])
      fields.shift()
    }
    const [name, ...args] = fields
    if (name === undefined) {
      for (const [k, v] of assigns) this.#vars.set(k, v)
      return 0
    }
    switch (name) {
      case 'exit': {
        const code = args[0] === undefined ? this.status : Number.parseInt(args[0], 10)
        throw new ShellExit(Number.isNaN(code) ? 2 : code & 255)
      }
      case 'trap': {
        const [action, ...signals] = args
        if (action === undefined) return 0
        for (const s of signals) {
          const sig = s.replace(/^SIG/, '')
          if (action === '-') this.#traps.delete(sig)
          else this.#traps.set(sig === '15' ? 'TERM' : sig, action)
        }
        return 0
      }
      case ':':
        return 0
      case 'export':
      case 'readonly':
        for (const a of args) {
          const m = ASSIGNMENT.exec(a)
          if (m !== null) this.#vars.set(m[1] ?? '', m[2] ?? '')
        }
        return 0
      case 'unset':
        for (const a of args) this.#vars.delete(a)
        return 0
      case 'exec':
        if (args.length === 0) return 0
        throw new ShellExit(await this.#run(args, io, assigns))
      default:
        return this.#run(fields, io, assigns)
    }
  }

  async #run(argv: readonly string[], io: FakeIO, assigns: readonly [string, string][]): Promise<number> {
    const env = Object.fromEntries(this.#vars)
    for (const [k, v] of assigns) env[k] = v
    return this.#ctx.run(argv, io, env)
  }
}

/** The `sh` program: `sh -c script [name [args…]]`. */
export const shProgram: FakeProgram = async (argv, ctx) => {
  if (argv[1] !== '-c' || argv[2] === undefined) {
    ctx.io.err('sh: only "sh -c script" is supported by the fake runtime\n')
    return 2
  }
  let node: ShellNode
  try {
    node = parseShell(argv[2])
  } catch (err) {
    ctx.io.err(`sh: ${(err as Error).message}\n`)
    return 2
  }
  const positional = [argv[3] ?? 'sh', ...argv.slice(4)]
  try {
    return await new Shell(ctx, positional).main(node)
  } catch (err) {
    if (err instanceof FakeProcessKilled) throw err
    ctx.io.err(`sh: ${(err as Error).message}\n`)
    return 2
  }
}
