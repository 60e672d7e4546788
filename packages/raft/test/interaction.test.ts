/**
 * Data-driven scenarios: every test/testdata/*.txt script is replayed against a simulated
 * cluster and its output compared with the golden text. Regenerate with UPDATE_GOLDEN=1 (then
 * review the diff).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { InteractionEnv, parseScript, renderScript } from './helpers/interaction.ts'

const dir = new URL('./testdata/', import.meta.url)
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()

describe('interaction scripts', () => {
  it('has scripts', () => {
    expect(files.length).toBeGreaterThan(0)
  })
  for (const file of files) {
    it(file, () => {
      const blocks = parseScript(readFileSync(new URL(file, dir), 'utf8'))
      const env = new InteractionEnv()
      const actual = blocks.map((b) => ({ ...b, expected: env.run(b.command) }))
      if (process.env['UPDATE_GOLDEN'] === '1') {
        writeFileSync(new URL(file, dir), renderScript(actual))
        return
      }
      for (let i = 0; i < blocks.length; i++) {
        const want = blocks[i]
        const got = actual[i]
        expect(`${got?.command}\n${got?.expected}`).toBe(`${want?.command}\n${want?.expected}`)
      }
    })
  }
})
