/**
 * Durations as people read them, as Docker prints them (go-units' HumanDuration): `Less than a
 * second`, `5 seconds`, `About a minute`, `3 hours`, `2 days`, `3 weeks`, `4 months`, `2 years`.
 *
 * @module
 */

import { humanDuration } from '@swarmkit-ts/docker-api'

/** `ms` in Docker's words (`5 seconds`, `About an hour`): the Docker API's `humanDuration`. */
export { humanDuration }

/** `<duration> ago` from `then` to `now` (ms since the epoch). */
export function ago(then: number, now: number): string {
  return `${humanDuration(Math.max(0, now - then))} ago`
}
