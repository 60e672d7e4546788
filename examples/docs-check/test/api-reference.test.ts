/**
 * The TypeDoc API reference builds without a warning (a broken `{@link}`, an exported member
 * that references an unexported type, a missing entry point), and documents every export path
 * of every package.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')

interface PackageJson {
  readonly exports?: Record<string, string | Record<string, string>>
}

/** The source file of every public export path (`./package.json` excluded), relative to the root. */
function exportedSources(): string[] {
  const out: string[] = []
  for (const folder of readdirSync(join(root, 'packages'))) {
    const pkg = JSON.parse(readFileSync(join(root, 'packages', folder, 'package.json'), 'utf8')) as PackageJson
    for (const target of Object.values(pkg.exports ?? {})) {
      const source = typeof target === 'object' ? target['@swarmkit-ts/source'] : undefined
      if (source !== undefined) out.push(`packages/${folder}/${source.replace(/^\.\//, '')}`)
    }
  }
  return out.sort()
}

describe('API reference (TypeDoc)', () => {
  it('has an entry point for every export path of every package', () => {
    const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[] }
    expect([...config.entryPoints].sort()).toEqual(exportedSources())
  })

  it('builds with no error and no warning', { timeout: 300_000 }, async () => {
    const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc')
    const result = await promisify(execFile)(process.execPath, [typedoc, '--emit', 'none', '--treatWarningsAsErrors', '--logLevel', 'Warn'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      (r) => ({ code: 0, output: `${r.stdout}${r.stderr}` }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    )
    expect(result, result.output).toEqual({ code: 0, output: '' })
  })
})
