import { describe, expect, it } from 'vitest'
import { loadComposeFile } from '../src/stack/load.ts'
import { mergeComposeFiles } from '../src/stack/merge.ts'
import { plain } from '../src/stack/tree.ts'

const load = (file: string, text: string): ReturnType<typeof loadComposeFile> => loadComposeFile({ file, text }, { env: () => undefined })

describe('merging -c files', () => {
  it('merges secrets and configs by source, volumes by target, networks and labels whatever their form; replaces other lists', () => {
    const base = load(
      'a.yml',
      `services:
  web:
    image: a
    secrets: [s1, {source: s2, target: two}]
    configs: [c1]
    volumes: ["data:/data", "/logs"]
    networks: [front]
    labels: [a=1]
    dns: [1.1.1.1]
    deploy: {placement: {constraints: [x == y]}, replicas: 1}
`,
    )
    const next = load(
      'b.yml',
      `services:
  web:
    secrets: [{source: s2, target: deux}, s3]
    volumes: [{type: volume, source: other, target: /data}]
    networks: {back: {aliases: [w]}}
    labels: {b: "2"}
    dns: [8.8.8.8]
    deploy: {placement: {constraints: [z == w]}}
`,
    )
    expect(plain(mergeComposeFiles([base, next]))).toEqual({
      services: {
        web: {
          image: 'a',
          secrets: ['s1', { source: 's2', target: 'deux' }, 's3'],
          configs: ['c1'],
          volumes: [{ type: 'volume', source: 'other', target: '/data' }, '/logs'],
          networks: { front: null, back: { aliases: ['w'] } },
          labels: { a: '1', b: '2' },
          dns: ['8.8.8.8'],
          deploy: { placement: { constraints: ['z == w'] }, replicas: 1 },
        },
      },
    })
  })

  it('keeps the location of each value: an overridden value points to the later file', () => {
    const merged = mergeComposeFiles([load('a.yml', 'services:\n  web:\n    image: a\n    user: root\n'), load('b.yml', '\n\nservices:\n  web:\n    image: b\n')])
    const web = merged.entries.get('services')
    const svc = web?.kind === 'map' ? web.entries.get('web') : undefined
    const locs = svc?.kind === 'map' ? [svc.entries.get('image')?.loc, svc.entries.get('user')?.loc] : []
    expect(locs).toEqual([
      { file: 'b.yml', line: 5 },
      { file: 'a.yml', line: 4 },
    ])
  })
})
