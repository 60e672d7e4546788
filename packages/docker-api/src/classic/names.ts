/**
 * Names for containers created without `--name`: `<adjective>_<scientist>` as Docker makes them
 * (a DNS label, so also a valid service name), retried on a collision.
 *
 * @module
 */
import { randomInt } from 'node:crypto'

const ADJECTIVES = ['admiring', 'brave', 'clever', 'dreamy', 'eager', 'focused', 'gallant', 'happy', 'keen', 'loving', 'modest', 'nifty', 'pensive', 'quirky', 'relaxed', 'serene', 'tender', 'upbeat', 'vibrant', 'wizardly']
const SURNAMES = ['lovelace', 'hopper', 'turing', 'curie', 'noether', 'dijkstra', 'knuth', 'liskov', 'lamport', 'ritchie', 'thompson', 'hamilton', 'johnson', 'goldberg', 'kay', 'perlman', 'shannon', 'wing', 'yalow', 'zhukovsky']

/** A random container name such as `serene_lamport`; `attempt` > 0 appends a digit, as Docker does on a collision. */
export function randomContainerName(attempt = 0): string {
  const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)] ?? 'brave'}_${SURNAMES[randomInt(SURNAMES.length)] ?? 'turing'}`
  return attempt === 0 ? base : `${base}${randomInt(10)}`
}

/** Whether `name` can name a container here: a DNS label (the name of its service). */
export function validContainerName(name: string): boolean {
  return name.length >= 1 && name.length <= 63 && /^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$/.test(name)
}
