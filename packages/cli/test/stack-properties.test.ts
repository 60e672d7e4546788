import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { interpolate } from '../src/stack/interpolate.ts'
import { loadComposeFile } from '../src/stack/load.ts'
import { mergeComposeFiles } from '../src/stack/merge.ts'
import { splitCommand } from '../src/stack/shell-split.ts'
import { plain } from '../src/stack/tree.ts'

const noEnv = (): undefined => undefined

describe('stack properties', () => {
  it('interpolation gives back any text whose $ are escaped as $$', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(interpolate(s.replaceAll('$', () => '$$'), noEnv)).toBe(s)
      }),
    )
  })

  it('loading keeps any YAML value without $ as it was written', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/)
    const leaf = fc.oneof(fc.string().filter((s) => !s.includes('$')), fc.integer(), fc.boolean(), fc.constant(null))
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('tree'), { maxLength: 3 }), fc.dictionary(key, tie('tree'), { maxKeys: 3 })),
    }))
    fc.assert(
      fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 4 }), (value) => {
        expect(plain(loadComposeFile({ file: 'p.yml', text: stringify(value) }, { env: noEnv }))).toEqual(value)
      }),
    )
  })

  it('merging a file with itself changes nothing', () => {
    const text = 'services:\n  web:\n    image: a\n    ports: ["80:80", {target: 81, published: 8081}]\n    environment: [A=1]\n    deploy: {labels: {x: y}}\n'
    const file = loadComposeFile({ file: 'a.yml', text }, { env: noEnv })
    const once = plain(mergeComposeFiles([file]))
    expect(plain(mergeComposeFiles([file, file]))).toEqual(once)
  })

  it('command splitting inverts single-quoting of each word', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 5 }), (words) => {
        const quoted = words.map((w) => `'${w.replaceAll("'", `'"'"'`)}'`).join(' ')
        expect(splitCommand(quoted)).toEqual(words)
      }),
    )
  })
})
