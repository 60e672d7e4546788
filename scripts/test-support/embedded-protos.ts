/**
 * Shared by the packages' tests: the embedded schemas (`src/generated/proto-sources.ts`) are
 * exactly the `.proto` files of `proto/`, so a `.proto` edited without `pnpm generate:protos`
 * fails CI.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/** The `.proto` files under `protoDir`, as sorted `/`-separated paths relative to it. */
export function protoFiles(protoDir: string): string[] {
  return readdirSync(protoDir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.proto'))
    .map((e) => relative(protoDir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort()
}

/** Registers the two checks for a package whose `.proto` files are under `protoDir`. */
export function describeEmbeddedProtos(protoDir: URL, sources: Readonly<Record<string, string>>): void {
  const dir = fileURLToPath(protoDir)
  describe('generated proto sources', () => {
    it('embed every .proto file of proto/ and nothing else', () => {
      expect(Object.keys(sources).sort()).toEqual(protoFiles(dir))
    })

    it("hold each file's current text (run `pnpm generate:protos` after editing a .proto)", () => {
      for (const [file, text] of Object.entries(sources)) expect(text, file).toBe(readFileSync(join(dir, file), 'utf8'))
    })
  })
}
