/**
 * Pure rules of log subscriptions: request validation, which tasks a selector selects, which
 * lines the options let through.
 *
 * @module
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'
import type { LogSelector, LogStream, LogSubscriptionOptions, SubscribeLogsRequest } from './types.ts'

const STREAMS: readonly LogStream[] = ['stdout', 'stderr']

function checkIds(ids: unknown, field: string): readonly string[] {
  if (ids === undefined) return []
  if (!Array.isArray(ids)) throw new InvalidArgumentError(field, 'must be an array of ids')
  ids.forEach((id: unknown, i) => {
    if (typeof id !== 'string' || id === '') throw new InvalidArgumentError(`${field}[${i}]`, 'must be a non-empty string')
  })
  return ids as readonly string[]
}

/**
 * Checks a subscriber's request and returns it normalized (lists present, duplicates removed,
 * options with `follow` set).
 *
 * @throws InvalidArgumentError naming the field: `selector` without any id, an empty or
 *   non-string id, `options.tail` not an integer ≥ 0, `options.since` not a finite number ≥ 0,
 *   `options.streams` empty or naming an unknown stream.
 */
export function validateSubscribeRequest(request: SubscribeLogsRequest): {
  selector: Required<LogSelector>
  options: LogSubscriptionOptions & { follow: boolean }
} {
  if (typeof request !== 'object' || request === null) throw new InvalidArgumentError('', 'the request must be an object')
  const s: unknown = request.selector
  if (typeof s !== 'object' || s === null) throw new InvalidArgumentError('selector', 'is required')
  const sel = s as LogSelector
  const selector = {
    serviceIds: [...new Set(checkIds(sel.serviceIds, 'selector.serviceIds'))],
    taskIds: [...new Set(checkIds(sel.taskIds, 'selector.taskIds'))],
    nodeIds: [...new Set(checkIds(sel.nodeIds, 'selector.nodeIds'))],
  }
  if (selector.serviceIds.length + selector.taskIds.length + selector.nodeIds.length === 0) {
    throw new InvalidArgumentError('selector', 'must name at least one service, task or node')
  }
  const o: unknown = request.options ?? {}
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('options', 'must be an object')
  const opts = o as LogSubscriptionOptions
  if (opts.follow !== undefined && typeof opts.follow !== 'boolean') throw new InvalidArgumentError('options.follow', 'must be a boolean')
  if (opts.tail !== undefined && (!Number.isSafeInteger(opts.tail) || opts.tail < 0)) {
    throw new InvalidArgumentError('options.tail', 'must be an integer ≥ 0')
  }
  if (opts.since !== undefined && (typeof opts.since !== 'number' || !Number.isFinite(opts.since) || opts.since < 0)) {
    throw new InvalidArgumentError('options.since', 'must be a time in ms since the Unix epoch (a finite number ≥ 0)')
  }
  const options: LogSubscriptionOptions & { follow: boolean } = { follow: opts.follow ?? false }
  if (opts.tail !== undefined) Object.assign(options, { tail: opts.tail })
  if (opts.since !== undefined) Object.assign(options, { since: opts.since })
  if (opts.streams !== undefined) {
    if (!Array.isArray(opts.streams) || opts.streams.length === 0) throw new InvalidArgumentError('options.streams', 'must be a non-empty array')
    opts.streams.forEach((st: unknown, i) => {
      if (!STREAMS.includes(st as LogStream)) throw new InvalidArgumentError(`options.streams[${i}]`, 'must be stdout or stderr')
    })
    Object.assign(options, { streams: [...new Set(opts.streams)] })
  }
  return { selector, options }
}

/** The fields of a task a selector looks at. */
export interface SelectableTask {
  readonly id: string
  readonly serviceId: string
  readonly nodeId: string
}

/** Whether `selector` selects `task` (any of its lists names the task, its service or its node). */
export function selects(selector: LogSelector, task: SelectableTask): boolean {
  return (
    (selector.taskIds?.includes(task.id) ?? false) ||
    (selector.serviceIds?.includes(task.serviceId) ?? false) ||
    (task.nodeId !== '' && (selector.nodeIds?.includes(task.nodeId) ?? false))
  )
}

/** Whether the options let a line of `stream` through (all streams when `streams` is not given). */
export function wantsStream(options: LogSubscriptionOptions, stream: LogStream): boolean {
  return options.streams === undefined || options.streams.includes(stream)
}
