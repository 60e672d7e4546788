import type { Socket } from 'node:net'
import type { FakeProcess } from './fake-process.ts'
import { shProgram, type FakeProgram, type FakeProgramLookup } from './fake-shell.ts'

const decoder = new TextDecoder()

/** Directories that exist in the fake busybox image (besides those holding delivered files). */
const BASE_DIRS = new Set(['/', '/bin', '/dev', '/etc', '/home', '/proc', '/root', '/run', '/sys', '/tmp', '/usr', '/usr/bin', '/usr/sbin', '/sbin', '/var'])

function isDir(proc: FakeProcess, path: string): boolean {
  if (BASE_DIRS.has(path)) return true
  const prefix = path.endsWith('/') ? path : `${path}/`
  for (const target of proc.files.keys()) if (target.startsWith(prefix)) return true
  return false
}

function resolvePath(proc: FakeProcess, path: string): string {
  if (path.startsWith('/')) return path
  return `${proc.cwd === '/' ? '' : proc.cwd}/${path}`
}

/** Applies printf/echo -e backslash escapes. */
function unescape(s: string): string {
  return s.replace(/\\(n|t|r|\\|0[0-7]{0,3}|a|b|f|v)/g, (_, e: string) => {
    switch (e) {
      case 'n':
        return '\n'
      case 't':
        return '\t'
      case 'r':
        return '\r'
      case '\\':
        return '\\'
      case 'a':
        return '\x07'
      case 'b':
        return '\b'
      case 'f':
        return '\f'
      case 'v':
        return '\v'
      default:
        return String.fromCharCode(Number.parseInt(e.slice(1) || '0', 8))
    }
  })
}

function parseDuration(arg: string): number | undefined {
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(arg)
  if (m === null) return undefined
  const unit = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? ''] ?? 1000
  return Math.round(Number(m[1]) * unit)
}

function testExpr(args: readonly string[], proc: FakeProcess): boolean | undefined {
  if (args[0] === '!') {
    const r = testExpr(args.slice(1), proc)
    return r === undefined ? undefined : !r
  }
  if (args.length === 0) return false
  if (args.length === 1) return (args[0] ?? '') !== ''
  if (args.length === 2) {
    const [op, v = ''] = args
    const path = resolvePath(proc, v)
    switch (op) {
      case '-n':
        return v !== ''
      case '-z':
        return v === ''
      case '-f':
        return proc.files.has(path)
      case '-d':
        return isDir(proc, path)
      case '-e':
        return proc.files.has(path) || isDir(proc, path)
      default:
        return undefined
    }
  }
  if (args.length === 3) {
    const [a = '', op, b = ''] = args
    const na = Number(a)
    const nb = Number(b)
    switch (op) {
      case '=':
      case '==':
        return a === b
      case '!=':
        return a !== b
      case '-eq':
        return na === nb
      case '-ne':
        return na !== nb
      case '-lt':
        return na < nb
      case '-le':
        return na <= nb
      case '-gt':
        return na > nb
      case '-ge':
        return na >= nb
      default:
        return undefined
    }
  }
  return undefined
}

const test: FakeProgram = (argv, { process, io }) => {
  let args = argv.slice(1)
  if (argv[0] === '[') {
    if (args[args.length - 1] !== ']') {
      io.err('[: missing ]\n')
      return Promise.resolve(2)
    }
    args = args.slice(0, -1)
  }
  const r = testExpr(args, process)
  if (r === undefined) {
    io.err(`test: unsupported expression ${args.join(' ')}\n`)
    return Promise.resolve(2)
  }
  return Promise.resolve(r ? 0 : 1)
}

function serveHttp(socket: Socket, proc: FakeProcess, home: string): void {
  let head = ''
  socket.on('error', () => socket.destroy())
  socket.on('data', (chunk: Buffer) => {
    head += chunk.toString('latin1')
    if (!head.includes('\r\n\r\n') && !head.includes('\n\n')) return
    const path = /^[A-Z]+ (\S+)/.exec(head)?.[1] ?? '/'
    const file = proc.files.get(`${home === '/' ? '' : home}${path}`)
    const body = file === undefined ? '<HTML><BODY><H1>404 Not Found</H1></BODY></HTML>\n' : decoder.decode(file.data)
    const status = file === undefined ? '404 Not Found' : '200 OK'
    socket.end(`HTTP/1.1 ${status}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  })
}

/**
 * The busybox applets the fake runtime interprets: `sh -c`, `echo`, `printf`, `true`, `false`,
 * `sleep`, `seq`, `cat`, `stat -c %a`, `pwd`, `test`/`[`, `env`/`printenv`, `httpd -f -p PORT`.
 */
export const BUSYBOX_PROGRAMS: Readonly<Record<string, FakeProgram>> = {
  sh: shProgram,
  true: () => Promise.resolve(0),
  false: () => Promise.resolve(1),
  echo: (argv, { io }) => {
    let args = argv.slice(1)
    let newline = true
    let escapes = false
    while (args[0] !== undefined && /^-[neE]+$/.test(args[0])) {
      if (args[0].includes('n')) newline = false
      if (args[0].includes('e')) escapes = true
      args = args.slice(1)
    }
    const text = args.join(' ')
    io.out((escapes ? unescape(text) : text) + (newline ? '\n' : ''))
    return Promise.resolve(0)
  },
  printf: (argv, { io }) => {
    const [, format = '', ...args] = argv
    let i = 0
    do {
      io.out(unescape(format).replace(/%([sdx%])/g, (_, c: string) => (c === '%' ? '%' : String(args[i++] ?? (c === 's' ? '' : '0')))))
    } while (i > 0 && i < args.length)
    return Promise.resolve(0)
  },
  sleep: async (argv, { process, io }) => {
    let total = 0
    for (const a of argv.slice(1)) {
      const ms = parseDuration(a)
      if (ms === undefined) {
        io.err(`sleep: invalid number '${a}'\n`)
        return 1
      }
      total += ms
    }
    await process.sleep(total)
    return 0
  },
  seq: (argv, { io }) => {
    const nums = argv.slice(1).map(Number)
    const [first, step, last] = nums.length === 1 ? [1, 1, nums[0] ?? 0] : nums.length === 2 ? [nums[0] ?? 1, 1, nums[1] ?? 0] : [nums[0] ?? 1, nums[1] ?? 1, nums[2] ?? 0]
    if (nums.length === 0 || nums.some(Number.isNaN) || step === 0) {
      io.err('seq: invalid arguments\n')
      return Promise.resolve(1)
    }
    let out = ''
    for (let n = first; step > 0 ? n <= last : n >= last; n += step) out += `${n}\n`
    io.out(out)
    return Promise.resolve(0)
  },
  cat: (argv, { process, io }) => {
    let status = 0
    for (const a of argv.slice(1)) {
      const f = process.files.get(resolvePath(process, a))
      if (f === undefined) {
        io.err(`cat: can't open '${a}': No such file or directory\n`)
        status = 1
      } else io.out(decoder.decode(f.data))
    }
    return Promise.resolve(status)
  },
  stat: (argv, { process, io }) => {
    if (argv[1] !== '-c' || argv[2] !== '%a' || argv.length < 4) {
      io.err('stat: only "stat -c %a FILE…" is supported by the fake runtime\n')
      return Promise.resolve(1)
    }
    let status = 0
    for (const a of argv.slice(3)) {
      const path = resolvePath(process, a)
      const f = process.files.get(path)
      if (f !== undefined) io.out(`${f.mode.toString(8)}\n`)
      else if (isDir(process, path)) io.out('755\n')
      else {
        io.err(`stat: can't stat '${a}': No such file or directory\n`)
        status = 1
      }
    }
    return Promise.resolve(status)
  },
  pwd: (_argv, { process, io }) => {
    io.out(`${process.cwd}\n`)
    return Promise.resolve(0)
  },
  test,
  '[': test,
  env: (_argv, { env, io }) => {
    io.out(Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''))
    return Promise.resolve(0)
  },
  printenv: (argv, { env, io }) => {
    if (argv.length === 1) io.out(Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''))
    const missing = argv.slice(1).filter((k) => env[k] === undefined)
    for (const k of argv.slice(1)) if (env[k] !== undefined) io.out(`${env[k]}\n`)
    return Promise.resolve(missing.length > 0 ? 1 : 0)
  },
  httpd: async (argv, { process, io }) => {
    let port = 80
    let home = process.cwd
    for (let i = 1; i < argv.length; i++) {
      if (argv[i] === '-p') port = Number((argv[++i] ?? '').split(':').pop())
      else if (argv[i] === '-h') home = argv[++i] ?? home
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      io.err('httpd: invalid port\n')
      return 1
    }
    if (!process.listen(port, (socket) => serveHttp(socket, process, home))) {
      io.err(`httpd: bind: Address already in use (port ${port})\n`)
      return 1
    }
    await process.forever()
    return 0
  },
}

const BIN_DIRS = ['/bin/', '/usr/bin/', '/sbin/', '/usr/sbin/']

/** Looks programs up by name or by path in a bin directory, in `programs` then the busybox applets. */
export function programLookup(programs: Readonly<Record<string, FakeProgram>> = {}): FakeProgramLookup {
  return (name) => {
    const dir = BIN_DIRS.find((d) => name.startsWith(d))
    const base = dir === undefined ? name : name.slice(dir.length)
    if (base.includes('/')) return programs[name]
    return Object.hasOwn(programs, base) ? programs[base] : Object.hasOwn(BUSYBOX_PROGRAMS, base) ? BUSYBOX_PROGRAMS[base] : undefined
  }
}
