/**
 * The page's static files. Built with the package (`tsup` bundles `client/` into
 * `dist/assets/app.js` and copies `src/assets/*` beside it) and read from there; when the package
 * runs from its TypeScript sources (the workspace's tests), the client is bundled once on first
 * use with esbuild instead. No CDN: everything the page loads comes from this server.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { FailedPreconditionError } from '@swarmkit-ts/api'
import type * as EsbuildModule from 'esbuild'

/** One static file: its bytes and content type. */
export interface Asset {
  readonly body: Buffer
  readonly contentType: string
}

/** The page's files by URL path. */
export type Assets = ReadonlyMap<string, Asset>

const ASSET_DIR = new URL('./assets/', import.meta.url)
const FROM_SOURCE = import.meta.url.endsWith('.ts')

let loading: Promise<Assets> | undefined

/** Loads (once) the page's files: `/` (index.html), `/assets/app.js`, `/assets/app.css`. */
export function loadAssets(): Promise<Assets> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined
    throw err
  })
  return loading
}

async function load(): Promise<Assets> {
  const [html, css, js] = await Promise.all([
    readFile(new URL('index.html', ASSET_DIR)),
    readFile(new URL('app.css', ASSET_DIR)),
    FROM_SOURCE ? bundleClient() : readFile(new URL('app.js', ASSET_DIR)),
  ]).catch((err: unknown) => {
    throw new FailedPreconditionError(`dashboard: the page's files are missing (${String(err)}); build the package (pnpm build)`, { reason: 'assets-missing', cause: err })
  })
  return new Map<string, Asset>([
    ['/', { body: html, contentType: 'text/html; charset=utf-8' }],
    ['/assets/app.css', { body: css, contentType: 'text/css; charset=utf-8' }],
    ['/assets/app.js', { body: js, contentType: 'text/javascript; charset=utf-8' }],
  ])
}

/** Bundles `client/main.ts` as the build does (from-source runs only; esbuild is a devDependency). */
async function bundleClient(): Promise<Buffer> {
  // A computed specifier: bundlers of the built package must not try to include esbuild.
  const specifier = 'esbuild'
  const esbuild = (await import(specifier)) as typeof EsbuildModule
  const entry = fileURLToPath(new URL('../client/main.ts', import.meta.url))
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, write: false, format: 'iife', target: 'chrome110', platform: 'browser', logLevel: 'silent' })
  const file = out.outputFiles[0]
  if (file === undefined) throw new Error('esbuild produced no output')
  return Buffer.from(file.contents)
}
