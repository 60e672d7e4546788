/**
 * Copy-on-write drafts for update recipes: `tx.tasks.update(id, (d) => { d.status.state = … })`.
 *
 * A recipe mutates a draft of a frozen stored object as if it were a plain, mutable copy; the
 * result is a new tree in which what the recipe changed is new and everything else is the very
 * same (frozen) object as before. This is immer's model, for the data the store holds (plain
 * objects, arrays, and leaves: strings, numbers, bigints, booleans, `Uint8Array`s), with less
 * machinery per update: a draft copies its object only when it is first written, a parent learns
 * of a changed child when that happens, and finishing walks only the drafts that changed (or,
 * when the recipe assigned objects of its own, the copies that hold them).
 *
 * Objects are drafted on read: `d.status` is a draft of the stored status. Values that are not
 * plain objects or arrays (a `Uint8Array`, a `Date`) are returned as they are, as immer does: do
 * not mutate them. A draft used after its recipe returned throws.
 *
 * @module
 */
import { FailedPreconditionError, InvalidArgumentError } from '@swarmkit-ts/api'
import { copyObject } from './shape-copy.ts'

/** A mutable view of a stored object's type, as a recipe receives it. */
export type Draft<T> = T extends Uint8Array | Date
  ? T
  : T extends readonly (infer U)[]
    ? Draft<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: Draft<T[K]> }
      : T

interface Scope {
  done: boolean
}

interface State {
  /** The frozen object this draft stands for. */
  readonly base: Record<string | symbol, unknown>
  /** The copy, made on the first write (or when a child is first written). */
  copy: Record<string | symbol, unknown> | undefined
  readonly parent: State | undefined
  /** Where this draft sits in its parent. */
  readonly key: string | symbol
  readonly isArray: boolean
  readonly scope: Scope
  /** Drafts made of this object's children (read, maybe written). */
  children: State[] | undefined
  /** The copy holds values the recipe assigned (which may contain drafts). */
  assigned: boolean
  /** The keys written, deleted or holding a changed child (repeats possible). */
  changed: (string | symbol)[] | undefined
  proxy: object
  /** The finished value, once computed. */
  result: unknown
  finished: boolean
}

const STATE: unique symbol = Symbol('swarmkit-ts draft')

function draftable(v: object): boolean {
  if (Array.isArray(v)) return true
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function stateOf(v: unknown): State | undefined {
  return typeof v === 'object' && v !== null ? ((v as Record<symbol, unknown>)[STATE] as State | undefined) : undefined
}

function live(s: State): void {
  if (s.scope.done) throw new FailedPreconditionError('a draft was used after its recipe returned; keep drafts inside the recipe', { reason: 'draft-revoked' })
}

function shallowCopy(s: State): Record<string | symbol, unknown> {
  const b = s.base
  if (s.isArray) return (b as unknown as unknown[]).slice() as unknown as Record<string, unknown>
  if (Object.getPrototypeOf(b) === null) return Object.assign(Object.create(null) as Record<string, unknown>, b)
  return copyObject(b)
}

/** Makes `s` (and its ancestors) hold a copy; a new copy of a child takes the child's draft. */
function touch(s: State): void {
  if (s.copy !== undefined) return
  s.copy = shallowCopy(s)
  const p = s.parent
  if (p === undefined) return
  touch(p)
  // Unless the recipe has meanwhile replaced or removed this child in its parent.
  const pc = p.copy as Record<string | symbol, unknown>
  if (pc[s.key] === s.base) {
    pc[s.key] = s.proxy
    noteChange(p, s.key)
  }
}

function noteChange(s: State, key: string | symbol): void {
  if (s.changed === undefined) s.changed = [key]
  else s.changed.push(key)
}

/** An own value of the draft's source, or else the prototype's (with the draft as receiver, for array methods). */
function inherited(s: State, prop: string | symbol, receiver: unknown): unknown {
  const src = s.copy ?? s.base
  if (Object.hasOwn(src, prop)) return src[prop]
  const proto: unknown = Object.getPrototypeOf(s.base)
  return proto === null ? undefined : Reflect.get(proto as object, prop, receiver)
}

function read(s: State, prop: string | symbol, receiver: unknown): unknown {
  if (prop === STATE) return s
  live(s)
  const base = s.base
  const c = s.copy
  let v: unknown
  if (c !== undefined) {
    v = c[prop]
    // A value the recipe assigned, or a child draft already placed in the copy.
    if (v !== base[prop]) return v
  } else v = base[prop]
  if (typeof v !== 'object' || v === null) {
    if (v === undefined || typeof v === 'function') return inherited(s, prop, receiver)
    return v
  }
  if (!draftable(v)) return v
  // `__proto__` and the like: an object found on the prototype is not this draft's to copy.
  if (!Object.hasOwn(base, prop)) return inherited(s, prop, receiver)
  const ch = s.children
  if (ch !== undefined) {
    for (let i = 0; i < ch.length; i++) {
      const x = ch[i] as State
      if (x.key === prop && x.base === v) return x.proxy
    }
  }
  const child = makeDraft(v as Record<string, unknown>, s, prop, s.scope)
  if (ch === undefined) s.children = [child]
  else ch.push(child)
  return child.proxy
}

function write(s: State, prop: string | symbol, value: unknown): boolean {
  live(s)
  const src = s.copy ?? s.base
  const cur = src[prop]
  if (Object.is(cur, value) && (value !== undefined || Object.hasOwn(src, prop))) return true
  // `d.a = d.a`: the child's own draft put back where it was read.
  if (typeof cur === 'object' && cur !== null && typeof value === 'object' && value !== null) {
    const st = stateOf(value)
    if (st !== undefined && st.parent === s && st.key === prop && st.base === cur) return true
  }
  touch(s)
  ;(s.copy as Record<string | symbol, unknown>)[prop] = value
  noteChange(s, prop)
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) s.assigned = true
  return true
}

function remove(s: State, prop: string | symbol): boolean {
  live(s)
  if (!Object.hasOwn(s.copy ?? s.base, prop)) return true
  touch(s)
  delete (s.copy as Record<string | symbol, unknown>)[prop]
  noteChange(s, prop)
  return true
}

function describe(s: State, prop: string | symbol): PropertyDescriptor | undefined {
  live(s)
  const src = s.copy ?? s.base
  const d = Reflect.getOwnPropertyDescriptor(src, prop)
  if (d === undefined) return undefined
  // The source is frozen; the draft is not. An array's length stays non-configurable, as on the
  // proxy's target.
  return { value: d.value, writable: true, enumerable: d.enumerable ?? false, configurable: !(s.isArray && prop === 'length') }
}

function refuse(what: string): never {
  throw new InvalidArgumentError('recipe', `${what} cannot be used on a draft`)
}

/** The traps of a draft whose proxy target leads to its state through `state`. */
function traps<T extends object>(state: (target: T) => State): ProxyHandler<T> {
  return {
    get: (t, p, r) => read(state(t), p, r),
    set: (t, p, v) => write(state(t), p, v),
    deleteProperty: (t, p) => remove(state(t), p),
    has: (t, p) => {
      const s = state(t)
      live(s)
      return p in (s.copy ?? s.base)
    },
    ownKeys: (t) => {
      const s = state(t)
      live(s)
      return Reflect.ownKeys(s.copy ?? s.base)
    },
    getOwnPropertyDescriptor: (t, p) => describe(state(t), p),
    getPrototypeOf: (t) => Object.getPrototypeOf(state(t).base) as object | null,
    defineProperty: () => refuse('Object.defineProperty'),
    setPrototypeOf: () => refuse('Object.setPrototypeOf'),
    preventExtensions: () => refuse('Object.preventExtensions (or freeze, or seal)'),
  }
}

const objectTraps = traps<State>((s) => s)
// An array draft's target is an array (so that Array.isArray(draft) holds) holding the state.
type ArrayTarget = [State]
const arrayTraps = traps<ArrayTarget>((t) => t[0])

function makeDraft(base: Record<string, unknown>, parent: State | undefined, key: string | symbol, scope: Scope): State {
  const isArray = Array.isArray(base)
  const s: State = { base, copy: undefined, parent, key, isArray, scope, children: undefined, assigned: false, changed: undefined, proxy: base, result: undefined, finished: false }
  s.proxy = isArray ? new Proxy([s] as ArrayTarget, arrayTraps) : new Proxy(s, objectTraps)
  return s
}

/**
 * The finished value of a draft: its base when nothing in it changed, else its copy with every
 * draft inside replaced by its finished value and every new part frozen (except the top level's
 * copy, which the caller completes and freezes).
 */
function finish(s: State): unknown {
  if (s.finished) return s.result
  s.finished = true
  const c = s.copy
  s.result = c ?? s.base
  if (c === undefined) return s.base
  // Children that changed sit in the copy as their drafts (touch put them there).
  const ch = s.children
  if (ch !== undefined) {
    for (let i = 0; i < ch.length; i++) {
      const x = ch[i] as State
      if (x.copy !== undefined && c[x.key] === x.proxy) c[x.key] = finish(x)
    }
  }
  if (s.assigned) resolveIn(c)
  return s.parent === undefined ? c : Object.freeze(c)
}

/**
 * Replaces every draft inside `obj` (a copy holding values the recipe assigned, or such a value)
 * by its finished value, and freezes what the recipe built. Byte arrays cannot be frozen.
 */
function resolveIn(obj: Record<string | symbol, unknown>): void {
  // for…in, not Object.keys: no array of keys per object visited (plain objects here, so the
  // only enumerable keys are their own).
  for (const key in obj) {
    const v = obj[key]
    if (typeof v !== 'object' || v === null) continue
    const st = stateOf(v)
    if (st !== undefined) obj[key] = finish(st)
    else if (!Object.isFrozen(v) && !ArrayBuffer.isView(v)) {
      resolveIn(v as Record<string, unknown>)
      Object.freeze(v)
    }
  }
}

/** What {@link produce} returns. */
export interface Produced<T> {
  /** The new object, or the base when nothing changed. */
  readonly result: T
  /** What the recipe returned. */
  readonly returned: unknown
  /**
   * The top-level keys the recipe wrote, deleted, or changed something under (repeats possible):
   * every other key of the result holds the base's own value.
   */
  readonly changed: readonly (string | symbol)[]
}

const NONE: readonly (string | symbol)[] = Object.freeze([])

/**
 * Runs `recipe` on a draft of `base` (a deeply frozen plain object) and returns the result: `base`
 * itself when nothing changed, otherwise a new object whose untouched parts are `base`'s. Every
 * new part is frozen except the new top level itself, which the caller completes (the store sets
 * its meta) and freezes. Throws what the recipe throws; either way the drafts are unusable
 * afterwards.
 */
export function produce<T extends object>(base: T, recipe: (draft: Draft<T>) => unknown): Produced<T> {
  const scope: Scope = { done: false }
  const root = makeDraft(base as Record<string, unknown>, undefined, '', scope)
  let returned: unknown
  try {
    returned = recipe(root.proxy as Draft<T>)
  } catch (err) {
    scope.done = true
    throw err
  }
  const result = finish(root) as T
  scope.done = true
  return { result, returned, changed: root.changed ?? NONE }
}

/** Whether `v` is a live or finished draft (a recipe must not return or leak one). */
export function isDraft(v: unknown): boolean {
  return stateOf(v) !== undefined
}
