/**
 * Shape checks on objects handed to the store: only what the store itself relies on (ids, names,
 * labels and indexed fields). Spec rules (DNS names, limits) belong to the api validators.
 *
 * @module
 */
import { InvalidArgumentError, isId } from '@swarmkit-ts/api'
import type { ObjectKind } from '@swarmkit-ts/api'

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function fail(field: string, message: string): never {
  throw new InvalidArgumentError(field, message)
}

// Field paths are built only on failure: these checks run on every write.

function checkAnnotations(v: unknown, field: string): void {
  if (!isRecord(v)) fail(field, 'is required')
  if (typeof v['name'] !== 'string') fail(`${field}.name`, 'must be a string')
  const labels = v['labels']
  if (labels !== undefined) {
    if (!isRecord(labels)) fail(`${field}.labels`, 'must be a record of strings')
    for (const k in labels) if (Object.hasOwn(labels, k) && typeof labels[k] !== 'string') fail(`${field}.labels.${k}`, 'must be a string')
  }
}

function checkString(obj: Record<string, unknown>, key: string): void {
  if (typeof obj[key] !== 'string') fail(key, 'must be a string')
}

function checkInt(v: unknown, field: string): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(field, 'must be a safe integer')
}

/** `list` (at `base` + `rest`) is absent or an array of objects whose `key` is a string. */
function checkRefs(list: unknown, key: string, base: string, rest: string): void {
  if (list === undefined) return
  if (!Array.isArray(list)) fail(`${base}${rest}`, 'must be an array')
  for (let i = 0; i < list.length; i++) {
    const r: unknown = list[i]
    if (!isRecord(r) || typeof r[key] !== 'string') fail(`${base}${rest}.${i}.${key}`, 'must be a string')
  }
}

function checkTaskSpec(spec: unknown, field: string): void {
  if (!isRecord(spec)) fail(field, 'is required')
  checkRefs(spec['networks'], 'target', field, '.networks')
  const container = spec['container']
  if (container !== undefined) {
    if (!isRecord(container)) fail(`${field}.container`, 'must be an object')
    checkRefs(container['secrets'], 'secretId', field, '.container.secrets')
    checkRefs(container['configs'], 'configId', field, '.container.configs')
  }
}

/**
 * Checks the fields the store relies on: a 25-character base36 `id`, a `spec` (or `annotations`
 * for extensions, resources and tasks) with a string name and string labels, and the indexed
 * fields of tasks and nodes. Throws an `InvalidArgumentError` naming the field.
 * `meta` is checked only when `needVersion` (an update passing a whole object).
 *
 * `prev`: the stored object an update replaces (a recipe's base, or the current object when a
 * caller passes a whole new one). A part that is the very same object as `prev`'s (a recipe's
 * draft, or a caller's spread copy, shares what it did not change) was checked when `prev` was
 * stored and is not walked again.
 */
export function validateObject(kind: ObjectKind, obj: unknown, needVersion: boolean, prev?: Readonly<Record<string, unknown>>): void {
  if (!isRecord(obj)) fail('', `expected a ${kind} object`)
  if ((prev === undefined || obj['id'] !== prev['id']) && !isId(obj['id'])) fail('id', 'must be a 25-character base36 id')
  if (needVersion) {
    const meta = obj['meta']
    if (!isRecord(meta) || !isRecord(meta['version']) || typeof meta['version']['index'] !== 'bigint') {
      fail('meta.version.index', 'must be the bigint version the update is based on')
    }
  }
  switch (kind) {
    case 'extension':
      if (!unchanged(obj, prev, 'annotations')) checkAnnotations(obj['annotations'], 'annotations')
      return
    case 'resource':
      if (!unchanged(obj, prev, 'annotations')) checkAnnotations(obj['annotations'], 'annotations')
      checkString(obj, 'kind')
      return
    case 'task': {
      if (!unchanged(obj, prev, 'annotations')) checkAnnotations(obj['annotations'], 'annotations')
      if (!unchanged(obj, prev, 'spec')) checkTaskSpec(obj['spec'], 'spec')
      checkString(obj, 'serviceId')
      checkString(obj, 'nodeId')
      checkInt(obj['slot'], 'slot')
      checkInt(obj['desiredState'], 'desiredState')
      const status = obj['status']
      if (!isRecord(status)) fail('status', 'is required')
      checkInt(status['state'], 'status.state')
      if (!unchanged(obj, prev, 'networks')) checkRefs(obj['networks'], 'networkId', 'networks', '')
      return
    }
    default:
      break
  }
  // A spec shared with `prev` was checked when `prev` was stored.
  const specChecked = unchanged(obj, prev, 'spec')
  const spec = obj['spec'] as Record<string, unknown>
  if (!specChecked) {
    if (!isRecord(spec)) fail('spec', 'is required')
    checkAnnotations(spec['annotations'], 'spec.annotations')
  }
  if (kind === 'node') {
    checkString(obj, 'role')
    if (!specChecked && typeof spec['membership'] !== 'string') fail('spec.membership', 'must be a string')
  }
  if (kind === 'service' && !specChecked) {
    checkTaskSpec(spec['task'], 'spec.task')
    checkRefs(spec['networks'], 'target', 'spec', '.networks')
  }
}

/** Whether `obj[key]` is the very object `prev[key]` (so it was checked when `prev` was stored). */
function unchanged(obj: Readonly<Record<string, unknown>>, prev: Readonly<Record<string, unknown>> | undefined, key: string): boolean {
  return prev !== undefined && obj[key] === prev[key]
}
