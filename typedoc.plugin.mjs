// A TypeDoc plugin: names each module of the API reference after the package export a consumer
// imports (`@swarmkit-ts/raft/grpc`) instead of its source path (`raft/src/grpc`).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Converter, ReflectionKind } from 'typedoc'

/** Source path as TypeDoc names it (`raft/src/grpc`, no `/index`) → the import specifier. */
function exportNames() {
  const names = new Map()
  const packages = join(import.meta.dirname, 'packages')
  for (const folder of readdirSync(packages)) {
    const pkg = JSON.parse(readFileSync(join(packages, folder, 'package.json'), 'utf8'))
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      const source = typeof target === 'object' ? target['@swarmkit-ts/source'] : undefined
      if (typeof source !== 'string') continue
      const path = `${folder}/${source.replace(/^\.\//, '').replace(/\.ts$/, '').replace(/\/index$/, '')}`
      names.set(path, subpath === '.' ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, '')}`)
    }
  }
  return names
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const names = exportNames()
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const name = names.get(module.name)
      if (name !== undefined) module.name = name
    }
  })
}
