/**
 * Resolving the `{id}` of a path the way Docker's daemon does for swarm objects: a full ID, then
 * an exact name (a node's hostname too, which several nodes may share), then a unique ID prefix. No match is `<kind> <input> not found` (404); several
 * are `<kind> <input> is ambiguous (<n> matches found)` (400).
 *
 * @module
 */
import { ErrorName, InvalidArgumentError, NotFoundError } from '@swarmkit-ts/api'
import type { CommonFilters } from '@swarmkit-ts/core'
import type { Frozen } from '@swarmkit-ts/store'

/** What {@link lookup} needs of a handle: `get` by id or name, and `list` with id prefixes. */
export interface LookupApi<T extends { readonly id: string }> {
  get(idOrName: string): Promise<Frozen<T>>
  list(filters?: CommonFilters): Promise<readonly Frozen<T>[]>
}

/** The object `input` names (full ID, exact name, unique ID prefix), or Docker's errors. */
export async function lookup<T extends { readonly id: string }>(kind: string, api: LookupApi<T>, input: string): Promise<Frozen<T>> {
  if (input === '') throw new NotFoundError(kind, input)
  let found: Frozen<T> | undefined
  try {
    found = await api.get(input)
  } catch (err) {
    if (!(err instanceof Error) || err.name !== ErrorName.NotFound) throw err
  }
  if (found !== undefined) {
    if (found.id === input) return found
    // Found by name: nodes may share a hostname, which names none of them (dockerd's rule).
    const byName = await api.list({ names: [input] })
    if (byName.length > 1) throw ambiguous(kind, input, byName.length)
    return found
  }
  const byPrefix = await api.list({ idPrefixes: [input] })
  if (byPrefix.length > 1) throw ambiguous(kind, input, byPrefix.length)
  const one = byPrefix[0]
  if (one === undefined) throw new NotFoundError(kind, input)
  return one
}

function ambiguous(kind: string, input: string, n: number): InvalidArgumentError {
  return new InvalidArgumentError('', `${kind} ${input} is ambiguous (${n} matches found)`)
}
