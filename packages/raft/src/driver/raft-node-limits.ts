/**
 * The size limits of a {@link RaftNode}, derived from its transport's `maxMessageBytes` so that
 * the core, the driver and the transport agree by construction:
 *
 * - one proposal (or membership change) becomes one entry whose data is at most
 *   `maxEntryDataBytes(maxMessageBytes)`: an `app` or `prop` message carrying it alone fits;
 *   a larger one is refused at `propose` with `ProposalTooLargeError`;
 * - proposals batched into one entry stop at that same size;
 * - the core's `maxSizePerMsg` (which counts `entrySize` = data + `ENTRY_OVERHEAD_BYTES` per
 *   entry) is at most {@link maxSizePerMsgFor}, so that an append of many entries that the core
 *   cuts at `maxSizePerMsg` fits too, whatever the sizes of its entries.
 *
 * @internal
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { encodeConfChange } from '../core/conf-change-codec.ts'
import { ENTRY_OVERHEAD_BYTES } from '../core/entries.ts'
import type { AnyConfChange } from '../core/types.ts'
import { varintSize } from '../wire/proto-wire.ts'
import { ProposalTooLargeError } from '../errors.ts'
import { MESSAGE_ENTRY_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, maxEntryDataBytes } from '../transport/transport.ts'

/** The core's default `maxSizePerMsg` (as in `RawNode`). */
export const DEFAULT_MAX_SIZE_PER_MSG = 65535

/**
 * The smallest entry a transport must carry for a driver to run on it: a membership change with
 * an ordinary address, a small proposal.
 */
export const MIN_ENTRY_DATA_BYTES = 256

/** Bytes of a proposal envelope besides the payload: request id field (2 + 16) and payload tag (1). */
const PROPOSAL_FIXED_BYTES = 19


/** Data bytes of the entry holding one proposal of `payloadBytes` on its own (see `encodeDriverBatch`). */
export function proposalEntryBytes(payloadBytes: number): number {
  return PROPOSAL_FIXED_BYTES + varintSize(payloadBytes) + payloadBytes
}

/** Data bytes a proposal of `payloadBytes` adds to an entry holding several (field 3 framing included). */
export function batchedProposalBytes(payloadBytes: number): number {
  const inner = proposalEntryBytes(payloadBytes)
  return 1 + varintSize(inner) + inner
}

/** The largest payload whose entry ({@link proposalEntryBytes}) is at most `maxEntryBytes` (0 if none fits). */
export function maxPayloadFor(maxEntryBytes: number): number {
  let n = Math.max(0, maxEntryBytes - PROPOSAL_FIXED_BYTES - varintSize(maxEntryBytes))
  while (proposalEntryBytes(n + 1) <= maxEntryBytes) n++
  while (n > 0 && proposalEntryBytes(n) > maxEntryBytes) n--
  return n
}

/**
 * The largest core `maxSizePerMsg` for a transport of `maxMessageBytes`. An append the core cuts
 * at `M` holds n entries with Σ(dataᵢ + ENTRY_OVERHEAD_BYTES) ≤ M, so n ≤ M / ENTRY_OVERHEAD_BYTES,
 * and its {@link messageSizeBound} is MESSAGE_OVERHEAD_BYTES + Σ dataᵢ + n · MESSAGE_ENTRY_OVERHEAD_BYTES
 * ≤ MESSAGE_OVERHEAD_BYTES + M · MESSAGE_ENTRY_OVERHEAD_BYTES / ENTRY_OVERHEAD_BYTES (when the
 * transport's per-entry overhead is the larger): that is ≤ `maxMessageBytes` for M up to this.
 * (An append of one larger entry is covered by the proposal limit.)
 */
export function maxSizePerMsgFor(maxMessageBytes: number): number {
  const ratioDen = Math.max(ENTRY_OVERHEAD_BYTES, MESSAGE_ENTRY_OVERHEAD_BYTES)
  return Math.max(0, Math.floor(((maxMessageBytes - MESSAGE_OVERHEAD_BYTES) * ENTRY_OVERHEAD_BYTES) / ratioDen))
}

/** The limits a driver works with. */
export interface DriverLimits {
  /** The transport's limit (`undefined`: none). */
  maxMessageBytes: number | undefined
  /** Largest entry data the driver produces (`Infinity` without a transport limit). */
  maxEntryBytes: number
  /** The core's `maxSizePerMsg` (`undefined`: the core's default). */
  maxSizePerMsg: number | undefined
}

/**
 * Derives the driver's limits from the transport's `maxMessageBytes` and the caller's
 * `maxSizePerMsg`.
 *
 * @throws InvalidArgumentError (`transport.maxMessageBytes`) for a limit that is not a positive
 *   integer or too small to carry {@link MIN_ENTRY_DATA_BYTES}; (`maxSizePerMsg`) when the
 *   caller's value lets the core build appends the transport cannot carry.
 */
export function driverLimits(maxMessageBytes: unknown, maxSizePerMsg: number | undefined): DriverLimits {
  if (maxMessageBytes === undefined) return { maxMessageBytes: undefined, maxEntryBytes: Number.POSITIVE_INFINITY, maxSizePerMsg }
  if (typeof maxMessageBytes !== 'number' || !Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new InvalidArgumentError('transport.maxMessageBytes', `must be a positive integer or undefined, got ${typeof maxMessageBytes === 'number' ? maxMessageBytes : typeof maxMessageBytes}`)
  }
  const maxEntryBytes = maxEntryDataBytes(maxMessageBytes)
  if (maxEntryBytes < MIN_ENTRY_DATA_BYTES) {
    throw new InvalidArgumentError('transport.maxMessageBytes', `must leave room for an entry of ${MIN_ENTRY_DATA_BYTES} bytes, got ${maxMessageBytes} (room for ${maxEntryBytes})`)
  }
  const ceiling = maxSizePerMsgFor(maxMessageBytes)
  if (maxSizePerMsg !== undefined && typeof maxSizePerMsg === 'number' && maxSizePerMsg > ceiling) {
    throw new InvalidArgumentError('maxSizePerMsg', `must be at most ${ceiling} with transport maxMessageBytes ${maxMessageBytes} (an append cut at ${maxSizePerMsg} bytes may not fit), got ${maxSizePerMsg}`)
  }
  return { maxMessageBytes, maxEntryBytes, maxSizePerMsg: maxSizePerMsg ?? Math.min(DEFAULT_MAX_SIZE_PER_MSG, ceiling) }
}

/** A ProposalTooLargeError (`field`) when the membership change's entry would not fit the transport's messages. */
export function confChangeTooLarge(limits: DriverLimits, field: string, cc: AnyConfChange): ProposalTooLargeError | undefined {
  const { maxEntryBytes, maxMessageBytes } = limits
  if (maxMessageBytes === undefined) return undefined
  const size = encodeConfChange(cc).byteLength
  return size > maxEntryBytes ? new ProposalTooLargeError(field, size, maxEntryBytes, maxMessageBytes) : undefined
}
