/**
 * A service's `volumes` to container mounts (docker/cli `compose/convert/volume.go`): short syntax
 * `[source:]target[:ro|rw|nocopy]` and long syntax `{ type, source, target, read_only, bind,
 * volume, tmpfs }`. A source starting with `/`, `.` or `~` is a bind mount (relative paths resolve
 * against the first compose file's folder); another source names a top-level volume, mounted as
 * `<stack>_<name>` (or its `name:`) with the stack label and driver options; no source is an
 * anonymous volume.
 *
 * @module
 */
import { isAbsolute, resolve } from 'node:path'
import type { Mount } from '@swarmkit-ts/api'
import { asBool, asBytes, asMap, asOneOf, asSeq, asString, asText, checkKeys, get } from './read.ts'
import { child, fail, item, type LMap, type LNode } from './tree.ts'

/** A top-level volume as the services see it. */
export interface DeclaredVolume {
  /** The volume's name on the nodes. */
  readonly name: string
  readonly external: boolean
  /** Labels (with the stack label) and driver, for a volume the stack creates. */
  readonly labels: Readonly<Record<string, string>>
  readonly driver?: { readonly name: string; readonly options?: Readonly<Record<string, string>> }
}

/** What mount conversion needs. */
export interface MountContext {
  /** Top-level volumes: compose key → volume. */
  readonly volumes: ReadonlyMap<string, DeclaredVolume>
  /** The folder relative bind sources resolve against (kept relative when absent). */
  readonly workingDir?: string
}

/** Converts `volumes` of a service at `path`. */
export function mountsOf(node: LNode, path: string, ctx: MountContext): Mount[] {
  return asSeq(node, path).items.map((x, i) => {
    const p = item(path, i)
    return x.kind === 'map' ? longMount(x, p, ctx) : shortMount(asText(x, p), x, p, ctx)
  })
}

function isPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~')
}

function bindSource(source: string, ctx: MountContext): string {
  if (isAbsolute(source) || source.startsWith('~') || ctx.workingDir === undefined) return source
  return resolve(ctx.workingDir, source)
}

function named(source: string, at: LNode, path: string, ctx: MountContext, nocopy: boolean): Pick<Mount, 'source' | 'volumeOptions'> {
  const v = ctx.volumes.get(source)
  if (v === undefined) fail(at, path, `undefined volume ${JSON.stringify(source)}`)
  const opts: NonNullable<Mount['volumeOptions']> = {}
  if (nocopy) opts.noCopy = true
  if (!v.external) {
    opts.labels = v.labels
    if (v.driver !== undefined) opts.driverConfig = { ...v.driver }
  }
  return Object.keys(opts).length === 0 ? { source: v.name } : { source: v.name, volumeOptions: opts }
}

function shortMount(text: string, at: LNode, path: string, ctx: MountContext): Mount {
  const parts = text.split(':')
  if (parts.length > 3 || parts.some((x) => x === '')) fail(at, path, `invalid volume ${JSON.stringify(text)}: [source:]target[:mode]`)
  const [first = '', second, third] = parts
  // `target:ro` has two parts whose second is a mode, not a target.
  const modeOnly = parts.length === 2 && !(second ?? '').startsWith('/') && /^(ro|rw|nocopy|z|Z)(,(ro|rw|nocopy|z|Z))*$/.test(second ?? '')
  const source = parts.length === 1 || modeOnly ? undefined : first
  const target = parts.length === 1 || modeOnly ? first : (second ?? '')
  const modes = (modeOnly ? second : third)?.split(',') ?? []
  for (const m of modes) if (!['ro', 'rw', 'nocopy', 'z', 'Z'].includes(m)) fail(at, path, `invalid mode ${JSON.stringify(m)} in volume ${JSON.stringify(text)}`)
  const readOnly = modes.includes('ro')
  const base = { target, ...(readOnly ? { readOnly: true } : {}) }
  if (source === undefined) return { type: 'volume', ...base }
  if (isPath(source)) return { type: 'bind', source: bindSource(source, ctx), ...base }
  return { type: 'volume', ...named(source, at, path, ctx, modes.includes('nocopy')), ...base }
}

function longMount(m: LMap, path: string, ctx: MountContext): Mount {
  checkKeys(m, path, ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs'])
  const at = (k: string): string => child(path, k)
  const typeNode = get(m, 'type')
  if (typeNode === undefined) fail(m, path, 'type is required')
  const type = asOneOf(typeNode, at('type'), ['bind', 'volume', 'tmpfs', 'npipe'])
  const targetNode = get(m, 'target')
  if (targetNode === undefined) fail(m, path, 'target is required')
  const out: Mount = { type, target: asString(targetNode, at('target')) }
  const ro = get(m, 'read_only')
  if (ro !== undefined && asBool(ro, at('read_only'))) out.readOnly = true
  const sourceNode = get(m, 'source')
  const source = sourceNode === undefined ? undefined : asString(sourceNode, at('source'))
  const bind = get(m, 'bind')
  const volume = get(m, 'volume')
  const tmpfs = get(m, 'tmpfs')
  const only = (node: LNode | undefined, key: string, allowed: string): void => {
    if (node !== undefined && type !== allowed) fail(node, at(key), `only with type ${allowed}`)
  }
  only(bind, 'bind', 'bind')
  only(volume, 'volume', 'volume')
  only(tmpfs, 'tmpfs', 'tmpfs')
  if (type === 'bind') {
    if (source === undefined) fail(m, path, 'source is required for a bind mount')
    out.source = bindSource(source, ctx)
    if (bind !== undefined) {
      const b = asMap(bind, at('bind'))
      checkKeys(b, at('bind'), ['propagation'])
      const prop = get(b, 'propagation')
      if (prop !== undefined) out.bindOptions = { propagation: asOneOf(prop, at('bind.propagation'), ['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']) }
    }
  } else if (type === 'volume') {
    let nocopy = false
    if (volume !== undefined) {
      const v = asMap(volume, at('volume'))
      checkKeys(v, at('volume'), ['nocopy'])
      const n = get(v, 'nocopy')
      nocopy = n !== undefined && asBool(n, at('volume.nocopy'))
    }
    if (source !== undefined) Object.assign(out, named(source, sourceNode ?? m, at('source'), ctx, nocopy))
    else if (nocopy) out.volumeOptions = { noCopy: true }
  } else if (type === 'tmpfs') {
    if (source !== undefined) fail(sourceNode ?? m, at('source'), 'a tmpfs mount has no source')
    if (tmpfs !== undefined) {
      const t = asMap(tmpfs, at('tmpfs'))
      checkKeys(t, at('tmpfs'), ['size'])
      const size = get(t, 'size')
      if (size !== undefined) out.tmpfsOptions = { sizeBytes: asBytes(size, at('tmpfs.size')) }
    }
  } else if (source !== undefined) out.source = source
  return out
}
