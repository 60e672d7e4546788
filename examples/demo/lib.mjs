// Helpers of the demo (demo.mjs): the nodes as child processes of the built CLI, CLI commands
// printed as `$ swarmkit …` with their output, HTTP requests through the routing mesh, waits on
// conditions (with generous guards, never timing assertions), and cleanup.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { clearTimeout, setTimeout as later } from 'node:timers'
import { setTimeout as sleep } from 'node:timers/promises'

/** A failed step: the demo prints `demo: FAILED at step <n> (<title>): <message>`. */
export class StepError extends Error {
  constructor(message) {
    super(message)
    this.name = 'StepError'
  }
}

/** Throws a StepError with `message` unless `cond` holds. */
export function check(cond, message) {
  if (!cond) throw new StepError(message)
}

/** Polls `probe` until it returns a value other than undefined; throws naming `what` after `guardMs`. */
export async function until(what, probe, guardMs = 120_000) {
  const deadline = Date.now() + guardMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new StepError(`gave up waiting for ${what} (${guardMs / 1000} s)`)
    await sleep(300)
  }
}

/** A TCP port free on every address of `hosts` now (so each manager's mesh can publish it). */
export async function freePortOn(hosts) {
  const bind = (host, port) =>
    new Promise((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(undefined))
      server.listen(port, host, () => {
        const address = server.address()
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : undefined))
      })
    })
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await bind(hosts[0], 0)
    if (port === undefined) continue
    let free = true
    for (const host of hosts.slice(1)) if ((await bind(host, port)) === undefined) free = false
    if (free) return port
  }
  throw new StepError(`no TCP port free on all of ${hosts.join(', ')}`)
}

/** The body of `GET http://host:port/` (first line), or undefined when the request fails. */
export function httpGet(host, port) {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined))
      res.on('error', () => resolve(undefined))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}

/** The CLI: every command printed as `$ swarmkit …` with its output. */
export class Cli {
  /** @param bin - the built CLI (packages/cli/dist/bin.js); @param out - where to print */
  constructor(bin, out) {
    this.bin = bin
    this.out = out
  }

  /**
   * Runs `swarmkit <args>`, printing the command and then its output as it comes (the converge
   * display draws in place when the demo runs on a terminal). Resolves with the exit code and
   * the output. `quiet` runs it without printing (the demo's own checks).
   */
  run(args, { quiet = false } = {}) {
    if (!quiet) this.out.write(`$ swarmkit ${args.map(shellWord).join(' ')}\n`)
    const tty = !quiet && process.stdout.isTTY === true
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [this.bin, ...args], { stdio: ['ignore', tty ? 'inherit' : 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout?.setEncoding('utf8')
      child.stderr.setEncoding('utf8')
      child.stdout?.on('data', (chunk) => {
        stdout += chunk
        if (!quiet) this.out.write(chunk)
      })
      child.stderr.on('data', (chunk) => {
        stderr += chunk
        if (!quiet) this.out.write(chunk)
      })
      child.on('error', reject)
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
    })
  }

  /** Runs a command quietly and parses its `--format json` output. */
  async json(args) {
    const r = await this.run([...args, '--format', 'json'], { quiet: true })
    if (r.code !== 0) return undefined
    try {
      return JSON.parse(r.stdout)
    } catch {
      return undefined
    }
  }
}

/** Quotes a word for display the way a shell user would type it. */
export function shellWord(word) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** One `swarmkit node start` process: its output lines (also in `<log>`), its pid, its exit. */
export class NodeProcess {
  constructor(bin, name, args, log) {
    this.name = name
    this.lines = []
    this.exited = false
    this.waiters = []
    const file = createWriteStream(log)
    this.child = spawn(process.execPath, [bin, 'node', 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    this.pid = this.child.pid
    let partial = ''
    this.child.stdout.setEncoding('utf8')
    this.child.stdout.on('data', (chunk) => {
      file.write(chunk)
      partial += chunk
      const parts = partial.split('\n')
      partial = parts.pop() ?? ''
      this.lines.push(...parts)
      for (const w of this.waiters.splice(0)) w()
    })
    this.child.stderr.on('data', (chunk) => file.write(chunk))
    this.exit = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = true
        file.end()
        for (const w of this.waiters.splice(0)) w()
        resolve({ code, signal })
      })
    })
  }

  /** Waits for `count` output lines (the node's report); throws when the process exits first. */
  async report(count, guardMs = 120_000) {
    const deadline = Date.now() + guardMs
    while (this.lines.length < count) {
      if (this.exited) throw new StepError(`${this.name} exited before it was running (see its log)`)
      if (Date.now() > deadline) throw new StepError(`${this.name} did not report within ${guardMs / 1000} s`)
      await Promise.race([new Promise((resolve) => this.waiters.push(resolve)), sleep(1000)])
    }
    return this.lines.slice(0, count)
  }

  /** Sends `signal` unless the process has exited. */
  signal(signal) {
    if (!this.exited) {
      try {
        process.kill(this.pid, signal)
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM (the node closes cleanly), then SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000) {
    this.signal('SIGTERM')
    const timer = later(() => this.signal('SIGKILL'), graceMs)
    await this.exit
    clearTimeout(timer)
  }
}
