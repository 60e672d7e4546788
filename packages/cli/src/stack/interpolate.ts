/**
 * Variable interpolation in compose values, as the compose specification defines it: `$VAR`,
 * `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset), `${VAR:?error}` /
 * `${VAR?error}` (required), `${VAR:+alt}` / `${VAR+alt}` (replacement when set), and `$$` for a
 * literal `$`. Defaults and messages may themselves contain interpolations.
 *
 * @module
 */

/** Why an interpolation failed: a malformed expression or a required variable without a value. */
export class InterpolationError extends Error {
  override readonly name = 'InterpolationError'
}

/** Looks a variable up (undefined when unset). */
export type LookupEnv = (name: string) => string | undefined

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/

/**
 * Interpolates `text`; `unset` is told each variable read while unset (docker warns "The X
 * variable is not set. Defaulting to a blank string."). Throws {@link InterpolationError}.
 */
export function interpolate(text: string, env: LookupEnv, unset: (name: string) => void = () => {}): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c !== '$') {
      out += c
      i++
      continue
    }
    const next = text[i + 1]
    if (next === '$') {
      out += '$'
      i += 2
      continue
    }
    if (next === '{') {
      const end = closingBrace(text, i + 2)
      if (end < 0) throw new InterpolationError(`invalid interpolation format: ${JSON.stringify(text)}; escape a literal $ as $$`)
      out += braced(text.slice(i + 2, end), text, env, unset)
      i = end + 1
      continue
    }
    const m = NAME.exec(text.slice(i + 1))
    if (m === null) throw new InterpolationError(`invalid interpolation format: ${JSON.stringify(text)}; escape a literal $ as $$`)
    out += read(m[0], env, unset)
    i += 1 + m[0].length
  }
  return out
}

function read(name: string, env: LookupEnv, unset: (name: string) => void): string {
  const v = env(name)
  if (v === undefined) {
    unset(name)
    return ''
  }
  return v
}

/** The index of the `}` closing the `${` whose body starts at `from` (nested `${…}` skipped), or -1. */
function closingBrace(text: string, from: number): number {
  let depth = 1
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') {
      i++
    } else if (text[i] === '$' && text[i + 1] === '{') {
      depth++
      i++
    } else if (text[i] === '}') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

function braced(body: string, whole: string, env: LookupEnv, unset: (name: string) => void): string {
  const m = NAME.exec(body)
  if (m === null) throw new InterpolationError(`invalid interpolation format: ${JSON.stringify(whole)}; escape a literal $ as $$`)
  const name = m[0]
  const rest = body.slice(name.length)
  if (rest === '') return read(name, env, unset)
  const value = env(name)
  const op = /^(:?[-?+])/.exec(rest)
  if (op === null) throw new InterpolationError(`invalid interpolation format: ${JSON.stringify(whole)}; escape a literal $ as $$`)
  const operator = op[1] ?? ''
  const arg = (): string => interpolate(rest.slice(operator.length), env, unset)
  const emptyCounts = operator.startsWith(':')
  const missing = value === undefined || (emptyCounts && value === '')
  switch (operator.replace(':', '')) {
    case '-':
      return missing ? arg() : (value ?? '')
    case '?':
      if (missing) throw new InterpolationError(`required variable ${name} is missing a value${rest.length > operator.length ? `: ${arg()}` : ''}`)
      return value ?? ''
    default:
      return missing ? '' : arg()
  }
}
