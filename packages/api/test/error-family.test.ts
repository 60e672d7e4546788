/**
 * The error family: every error class a swarmkit-ts package exports (from any of its entry
 * points) is a SwarmkitError whose name is its class name and whose gRPC status is the one the
 * table in docs/ARCHITECTURE.md gives it — and the table lists exactly those classes.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { GrpcStatus, SwarmkitError, toGrpcStatus } from '../src/index.ts'

const ROOT = new URL('../../../', import.meta.url)
const PACKAGES = ['api', 'testkit', 'raft', 'store', 'pki', 'engine-adapter'] as const

interface Row {
  name: string
  pkg: string
  status: keyof typeof GrpcStatus
}

/** The rows of the error table in docs/ARCHITECTURE.md. */
function documentedRows(): Row[] {
  const text = readFileSync(new URL('docs/ARCHITECTURE.md', ROOT), 'utf8')
  const rows: Row[] = []
  for (const m of text.matchAll(/^\| `(\w+)` \| `@swarmkit-ts\/([\w-]+)` \| `(\w+)` \|/gm)) {
    const [, name = '', pkg = '', status = ''] = m
    expect(Object.keys(GrpcStatus), `status of ${name} in the table`).toContain(status)
    rows.push({ name, pkg, status: status as keyof typeof GrpcStatus })
  }
  return rows
}

/** The source files of a package's entry points (its `exports` under the source condition). */
function entryPoints(pkg: string): string[] {
  const manifest = JSON.parse(readFileSync(new URL(`packages/${pkg}/package.json`, ROOT), 'utf8')) as {
    exports: Record<string, Record<string, string>>
  }
  return Object.values(manifest.exports).flatMap((e) => {
    const src = e['@swarmkit-ts/source']
    return src === undefined ? [] : [fileURLToPath(new URL(`packages/${pkg}/${src}`, ROOT))]
  })
}

type ErrorClass = new (...args: unknown[]) => Error

/** Every exported class of a package that extends Error (the abstract base excluded), by name. */
async function exportedErrorClasses(pkg: string): Promise<Map<string, ErrorClass>> {
  const out = new Map<string, ErrorClass>()
  for (const file of entryPoints(pkg)) {
    const mod = (await import(file)) as Record<string, unknown>
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value !== 'function' || !(value.prototype instanceof Error) || value === SwarmkitError) continue
      out.set(name, value as ErrorClass)
    }
  }
  return out
}

/**
 * An instance built from placeholder arguments (`name` and `code` are fixed by the class, whatever
 * the context): the first argument list the constructor and `context()` accept.
 */
function sample(Cls: ErrorClass): Error {
  const failures: unknown[] = []
  for (const args of [[], [1, 1, 1, 1], ['x', 'x', 'x', 'x'], [1n, 1n, 1n, 1n]]) {
    try {
      const err = new Cls(...args)
      if (err instanceof SwarmkitError) err.context()
      return err
    } catch (e) {
      failures.push(e)
    }
  }
  throw new Error(`cannot build a ${Cls.name} from placeholder arguments`, { cause: failures })
}

const rows = documentedRows()

describe('the error table of docs/ARCHITECTURE.md', () => {
  it('lists each class once', () => {
    expect(rows.length).toBeGreaterThan(0)
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length)
    for (const r of rows) expect(PACKAGES).toContain(r.pkg)
  })

  it.each(PACKAGES)('lists exactly the error classes @swarmkit-ts/%s exports, each a SwarmkitError with its documented status', async (pkg) => {
    const classes = await exportedErrorClasses(pkg)
    const documented = rows.filter((r) => r.pkg === pkg)
    expect([...classes.keys()].sort()).toEqual(documented.map((r) => r.name).sort())
    for (const row of documented) {
      const Cls = classes.get(row.name) as ErrorClass
      const err = sample(Cls)
      expect(err, row.name).toBeInstanceOf(SwarmkitError)
      expect(err.name, row.name).toBe(row.name)
      expect((err as SwarmkitError).code, `${row.name} status`).toBe(GrpcStatus[row.status])
      expect(toGrpcStatus(err).code, `${row.name} on the wire`).toBe(GrpcStatus[row.status])
    }
  }, 60_000)
})
