/**
 * Protobuf varint helpers shared by the store's hand-written codecs (change sets, snapshots).
 * @internal
 */

/** Bytes of `n` (a non-negative safe integer) as a protobuf varint. */
export function varintSize(n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    size++
  }
  return size
}
