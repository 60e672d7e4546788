/**
 * Headless Chromium for the page's tests: Debian's `chromium` driven by playwright-core. Where it
 * is missing the browser tests skip only when not root, saying so (CI runs as root and installs
 * it in .ci/run; as root a missing browser fails the tests). Screenshots go to
 * `bench-results/dashboard/` at the repository root.
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

/** The Chromium binary (`CHROMIUM_PATH` overrides). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Whether the browser tests skip: no Chromium and not root (root installs it: a missing one then fails). */
export const SKIP_BROWSER = !existsSync(CHROMIUM_PATH) && process.getuid?.() !== 0
if (SKIP_BROWSER) console.warn(`dashboard: the browser tests are skipped — ${CHROMIUM_PATH} is missing and this is not root (apt-get install chromium, or CHROMIUM_PATH=…)`)

/** Where screenshots are written. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../bench-results/dashboard/', import.meta.url))

/** Launches headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}

/** Writes a full-page screenshot `bench-results/dashboard/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png`, fullPage: true })
}

/** Waits (polling in the page) until `fn` holds; fails after `guardMs` naming `what`. */
export async function waitInPage<A = undefined>(page: Page, what: string, fn: (arg: A) => boolean, arg?: A, guardMs = 120_000): Promise<void> {
  try {
    await page.waitForFunction(fn as unknown as Parameters<Page['waitForFunction']>[0], arg, { timeout: guardMs, polling: 50 })
  } catch (err) {
    throw new Error(`timed out waiting in the page for ${what}`, { cause: err })
  }
}

/** An element of the page, as the tests read it (the test files are compiled without DOM types). */
export interface PageElement {
  readonly dataset: Record<string, string | undefined>
  readonly textContent: string | null
  getAttribute(name: string): string | null
  querySelector(selector: string): PageElement | null
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>
}

/**
 * The page's globals the tests read, for functions run in the page:
 * `const g = globalThis as unknown as PageGlobals` (a type only: nothing to serialize).
 */
export interface PageGlobals {
  readonly document: PageElement & { readonly body: PageElement }
  readonly __dashboard: { readonly snapshots: number; readonly deltas: number; readonly connected: boolean; readonly lastEventId: string }
  __xss?: number
  __sameDocument?: boolean
}

/** Counts of task cards in the page: per node column id, and how many are in each state. */
export function cardsByNode(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals
    const out: Record<string, string[]> = {}
    for (const col of g.document.querySelectorAll('#nodes .node')) {
      out[col.dataset.nodeId ?? ''] = [...col.querySelectorAll('.task')].map((c) => c.dataset.taskId ?? '').sort()
    }
    return out
  })
}

/**
 * A TCP proxy in front of the dashboard, so a test can cut the page's connection (as a network
 * failure does) without closing the server: `cut()` destroys the open connections and refuses
 * new ones until `mend()`.
 */
export class CuttableProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #refusing = false
  port = 0
  readonly upstreamPort: number

  constructor(upstreamPort: number) {
    this.upstreamPort = upstreamPort
    this.#server = createServer((client) => {
      if (this.#refusing) {
        client.destroy()
        return
      }
      const up = createConnection({ host: '127.0.0.1', port: this.upstreamPort })
      for (const s of [client, up]) {
        this.#sockets.add(s)
        s.on('close', () => this.#sockets.delete(s))
        s.on('error', () => s.destroy())
      }
      client.pipe(up)
      up.pipe(client)
      client.on('close', () => up.destroy())
      up.on('close', () => client.destroy())
    })
  }

  /** Listens on a free port of 127.0.0.1. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    const a = this.#server.address()
    this.port = typeof a === 'object' && a !== null ? a.port : 0
    return `http://127.0.0.1:${this.port}/`
  }

  /** Drops every open connection and refuses new ones. */
  cut(): void {
    this.#refusing = true
    for (const s of this.#sockets) s.destroy()
  }

  /** Accepts connections again. */
  mend(): void {
    this.#refusing = false
  }

  close(): Promise<void> {
    this.cut()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}
