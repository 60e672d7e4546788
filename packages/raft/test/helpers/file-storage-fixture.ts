/**
 * Temporary directories and FileRaftStorage instances for a test file: everything opened or
 * created through the fixture is abandoned and removed after each test.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { FileRaftStorage } from '../../src/index.ts'
import type { FileRaftStorageInit } from '../../src/index.ts'

/** Registers the clean-up hook and returns the fixture's helpers; `prefix` names the temp dirs. */
export function useFileStorageFixture(prefix: string): {
  tempDir: () => Promise<string>
  openIn: (dir: string, init?: FileRaftStorageInit) => Promise<FileRaftStorage>
} {
  const dirs: string[] = []
  const opened: FileRaftStorage[] = []
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.abandon()
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
  })
  return {
    tempDir: async () => {
      const d = await mkdtemp(join(tmpdir(), prefix))
      dirs.push(d)
      return d
    },
    openIn: async (dir, init) => {
      const s = await FileRaftStorage.open(dir, init)
      opened.push(s)
      return s
    },
  }
}
