import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backgroundClock, SystemClock, systemClock } from '../src/index.ts'

const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url))
// A held process would run into this long before the 60 s timers the scripts leave behind fire.
const CHILD_TIMEOUT_MS = 30_000

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swarmkit-clock-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs `body` as the top level of an ES module that imports the api's source; its exit code and output. */
async function runModule(name: string, body: string): Promise<{ code: number | null; stdout: string }> {
  const file = join(dir, `${name}.mts`)
  await writeFile(file, `import { SystemClock, systemClock, backgroundClock, sleep } from ${JSON.stringify(ENTRY)}\n${body}\n`)
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', file], { timeout: CHILD_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout) => {
      if (err === null) resolve({ code: 0, stdout })
      else if (typeof err.code === 'number') resolve({ code: err.code, stdout })
      else reject(new Error(`child failed: ${err.message}`, { cause: err }))
    })
  })
}

describe('SystemClock and the life of the process', () => {
  it('by default, a script whose top level awaits a sleep runs to its end and exits 0', async () => {
    const r = await runModule('sleep', `await sleep(new SystemClock(), 20)\nconsole.log('woke')\nvoid systemClock; void backgroundClock`)
    expect(r).toEqual({ code: 0, stdout: 'woke\n' })
  }, 60_000)

  it('by default, a top-level await on a systemClock timer runs to its end', async () => {
    const r = await runModule('timer', `await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 20))\nconsole.log('fired')`)
    expect(r).toEqual({ code: 0, stdout: 'fired\n' })
  }, 60_000)

  it('a cancelled timer does not hold the process', async () => {
    const r = await runModule('cancelled', `systemClock.setTimeout(() => console.log('late'), 60_000).cancel()\nconsole.log('done')`)
    expect(r).toEqual({ code: 0, stdout: 'done\n' })
  }, 60_000)

  it('with { unref: true }, a pending timer nobody awaits does not hold the process', async () => {
    const r = await runModule(
      'unref',
      `new SystemClock({ unref: true }).setTimeout(() => console.log('late'), 60_000)\nbackgroundClock.setTimeout(() => console.log('late'), 60_000)\nconsole.log('done')`,
    )
    expect(r).toEqual({ code: 0, stdout: 'done\n' })
  }, 60_000)

  it('with { unref: true }, a top-level await on a timer alone ends the process with code 13 (why it is not the default)', async () => {
    const r = await runModule('unref-await', `await sleep(backgroundClock, 60_000)\nconsole.log('woke')`)
    expect(r).toEqual({ code: 13, stdout: '' })
  }, 60_000)

  it('says which kind of clock it is', () => {
    expect(systemClock.unref).toBe(false)
    expect(new SystemClock().unref).toBe(false)
    expect(backgroundClock.unref).toBe(true)
    expect(new SystemClock({ unref: true }).unref).toBe(true)
  })
})
