/**
 * Durations as people read them, as Docker prints them (go-units' HumanDuration): `Less than a
 * second`, `5 seconds`, `About a minute`, `3 hours`, `2 days`, `3 weeks`, `4 months`, `2 years`.
 *
 * @module
 */

/** `ms` in Docker's words (`5 seconds`, `About an hour`). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 1) return 'Less than a second'
  if (seconds === 1) return '1 second'
  if (seconds < 60) return `${seconds} seconds`
  const minutes = Math.floor(seconds / 60)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  const hours = Math.round(seconds / 3600)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`
  return `${Math.floor(hours / 24 / 365)} years`
}

/** `<duration> ago` from `then` to `now` (ms since the epoch). */
export function ago(then: number, now: number): string {
  return `${humanDuration(Math.max(0, now - then))} ago`
}
