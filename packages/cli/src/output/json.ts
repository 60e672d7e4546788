/**
 * `--format json`: objects as Docker's inspect prints them — an indented JSON array — with the
 * values JSON lacks made readable: `bigint` (versions, Raft ids) as decimal strings, bytes
 * (`Uint8Array`: certificates, config data) as base64.
 *
 * @module
 */

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return value
}

/** `value` as indented JSON followed by a newline. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, replacer, 2)}\n`
}
