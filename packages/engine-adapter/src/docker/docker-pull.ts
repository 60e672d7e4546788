/**
 * Docker image pulls. `docker.pull` resolves when the progress stream *starts*, and dockerode's
 * `followProgress` reports success even when the stream carries an `{"error": …}` line (HTTP 200
 * with an in-band failure); this reads the stream itself and rejects on such a line.
 * @internal
 */
import type Docker from 'dockerode'
import { NdjsonSplitter } from './docker-wire.ts'
import { ImageNotFoundError } from '../errors.ts'
import type { PullImageOptions, PullProgress } from '../runtime.ts'

interface ProgressLine {
  status?: string
  id?: string
  error?: string
  errorDetail?: { message?: string }
  progressDetail?: { current?: number; total?: number }
}

/** Converts one progress line; returns the in-band error message if the line carries one. */
export function readPullLine(value: unknown): { progress?: PullProgress; error?: string } {
  if (typeof value !== 'object' || value === null) return {}
  const v = value as ProgressLine
  if (typeof v.error === 'string' || typeof v.errorDetail?.message === 'string') return { error: v.errorDetail?.message ?? v.error ?? 'pull failed' }
  if (typeof v.status !== 'string') return {}
  const p: PullProgress = { status: v.status }
  if (typeof v.id === 'string') p.item = v.id
  if (typeof v.progressDetail?.current === 'number') p.current = v.progressDetail.current
  if (typeof v.progressDetail?.total === 'number') p.total = v.progressDetail.total
  return { progress: p }
}

/** Consumes a pull progress stream; rejects on an in-band error line. */
export async function consumePullStream(stream: AsyncIterable<Buffer | string>, ref: string, options: PullImageOptions): Promise<void> {
  const splitter = new NdjsonSplitter()
  for await (const chunk of stream) {
    for (const { value } of splitter.push(chunk)) {
      const { progress, error } = readPullLine(value)
      if (error !== undefined) throw new ImageNotFoundError(ref, { message: `pull of ${ref} failed: ${error}` })
      if (progress !== undefined) options.onProgress?.(progress)
    }
  }
}

/** Pulls `ref`; rejects with `ImageNotFoundError` on any failure, or with the signal's reason when aborted. */
export async function dockerPull(docker: Docker, ref: string, options: PullImageOptions): Promise<void> {
  const signal = options.signal
  let stream: NodeJS.ReadableStream
  try {
    stream = (await docker.pull(ref, signal !== undefined ? { abortSignal: signal } : {}))
  } catch (err) {
    signal?.throwIfAborted()
    const msg = typeof err === 'object' && err !== null && 'message' in err ? String((err).message) : String(err)
    throw new ImageNotFoundError(ref, { message: `pull of ${ref} failed: ${msg}`, cause: err })
  }
  try {
    await consumePullStream(stream as AsyncIterable<Buffer | string>, ref, options)
  } catch (err) {
    signal?.throwIfAborted()
    throw err
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.()
  }
  signal?.throwIfAborted()
}
