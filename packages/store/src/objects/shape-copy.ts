/**
 * Shallow copies of plain objects that stay fast when the source is frozen.
 *
 * Every object the store hands out is frozen, and V8 copies a frozen object (`{ ...o }`,
 * `Object.assign`) on a slow path: about 0.35 µs for a task's top level, against 0.02 µs for an
 * object literal that names the same keys. So the store copies through small functions generated
 * per key list (an object literal, keys in the source's order), made once a key list has been
 * seen a few times; anything else is copied by spread. The copy has exactly the source's own
 * enumerable keys, values and order.
 *
 * @module
 */

interface Copier {
  readonly keys: readonly string[]
  readonly copy: (o: Readonly<Record<string, unknown>>) => Record<string, unknown>
}

interface Candidate {
  readonly keys: readonly string[]
  seen: number
}

/** A key list is compiled the SEEN_BEFORE_COMPILE-th time it is copied (label maps vary a lot). */
const SEEN_BEFORE_COMPILE = 4
/** Key lists compiled at most (shapes of the schema's messages are a few dozen). */
const MAX_COPIERS = 512
/** First keys tracked before the candidates start over (memory stays bounded). */
const MAX_CANDIDATE_KEYS = 4096
/** Longer key lists are copied by spread (generated code per label map would not pay off). */
const MAX_KEYS = 48

/** Compiled copiers and candidates, by first key (property keys are interned: no hashing per copy). */
const copiers = new Map<string, Copier[]>()
const candidates = new Map<string, Candidate[]>()
let compiled = 0

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const spread: Copier['copy'] = (o) => ({ ...o })

function compile(keys: readonly string[]): Copier['copy'] {
  const body = keys.map((k) => `${JSON.stringify(k)}: o[${JSON.stringify(k)}]`).join(', ')
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the keys are quoted by JSON.stringify
    return new Function('o', `return { ${body} }`) as Copier['copy']
  } catch {
    // Code generation disallowed (node --disallow-code-generation-from-strings): copy by spread.
    return spread
  }
}

/** Counts a sighting of `keys` (whose first key is `first`); returns a compiled copier once it has been seen often enough. */
function learn(first: string, keys: readonly string[]): Copier | undefined {
  if (compiled >= MAX_COPIERS || keys.length > MAX_KEYS || keys.includes('__proto__')) return undefined
  if (candidates.size >= MAX_CANDIDATE_KEYS) candidates.clear()
  let list = candidates.get(first)
  if (list === undefined) candidates.set(first, (list = []))
  let c = list.find((x) => sameKeys(x.keys, keys))
  if (c === undefined) {
    // Bounded: at most 8 candidates per first key, the oldest make room.
    if (list.length >= 8) list.shift()
    c = { keys, seen: 0 }
    list.push(c)
  }
  if (++c.seen < SEEN_BEFORE_COMPILE) return undefined
  list.splice(list.indexOf(c), 1)
  const copier: Copier = { keys, copy: compile(keys) }
  const have = copiers.get(first)
  if (have === undefined) copiers.set(first, [copier])
  else have.push(copier)
  compiled++
  return copier
}

/**
 * A new, unfrozen plain object with the same own enumerable keys and values as `o` (a plain
 * object with `Object.prototype` as its prototype), in the same order.
 */
export function copyObject(o: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const keys = Object.keys(o)
  const n = keys.length
  if (n === 0) return {}
  const first = keys[0] as string
  const list = copiers.get(first)
  if (list !== undefined) {
    for (let i = 0; i < list.length; i++) {
      const c = list[i] as Copier
      if (sameKeys(c.keys, keys)) return c.copy(o)
    }
  }
  const c = learn(first, keys)
  return c !== undefined ? c.copy(o) : { ...o }
}
