/**
 * A scripted `DispatcherApi` for the binding's tests: each stream is a pipe the test pushes
 * messages into, ends or fails; unary calls answer with what the test set; every request and the
 * signal of each stream are recorded.
 */
import type {
  AssignmentsMessage,
  DispatcherApi,
  DispatcherStreamOptions,
  HeartbeatRequest,
  HeartbeatResponse,
  SessionMessage,
  SessionRequest,
  UpdateTaskStatusRequest,
} from '@swarmkit-ts/api'

/** One server stream the test drives. */
export class Pipe<M> {
  readonly #queue: ({ value: M } | { end: true } | { error: unknown })[] = []
  #wake: (() => void) | undefined
  /** The signal the binding opened the stream with. */
  signal: AbortSignal | undefined

  push(value: M): void {
    this.#queue.push({ value })
    this.#wake?.()
  }

  end(): void {
    this.#queue.push({ end: true })
    this.#wake?.()
  }

  fail(error: unknown): void {
    this.#queue.push({ error })
    this.#wake?.()
  }

  async *iterate(signal: AbortSignal | undefined): AsyncGenerator<M> {
    this.signal = signal
    const onAbort = (): void => this.#wake?.()
    signal?.addEventListener('abort', onAbort)
    try {
      for (;;) {
        if (signal?.aborted === true) return
        const item = this.#queue.shift()
        if (item === undefined) {
          await new Promise<void>((resolve) => (this.#wake = resolve))
          this.#wake = undefined
          continue
        }
        if ('end' in item) return
        if ('error' in item) throw item.error
        yield item.value
      }
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }
}

/** The scripted target. */
export class FakeDispatcher implements DispatcherApi {
  readonly requests: { call: string; request: unknown }[] = []
  readonly sessions: Pipe<SessionMessage>[] = []
  readonly assignmentStreams: Pipe<AssignmentsMessage>[] = []
  /** What heartbeat answers (or the error it throws). */
  heartbeatAnswer: HeartbeatResponse | Error = { periodMs: 5000 }
  /** The error updateTaskStatus throws, if any. */
  updateError: Error | undefined
  /** A promise heartbeat waits on before answering, if set. */
  heartbeatGate: Promise<void> | undefined

  session(request: SessionRequest, options?: DispatcherStreamOptions): AsyncIterable<SessionMessage> {
    this.requests.push({ call: 'session', request })
    const pipe = new Pipe<SessionMessage>()
    this.sessions.push(pipe)
    return pipe.iterate(options?.signal)
  }

  assignments(request: { readonly sessionId: string }, options?: DispatcherStreamOptions): AsyncIterable<AssignmentsMessage> {
    this.requests.push({ call: 'assignments', request })
    const pipe = new Pipe<AssignmentsMessage>()
    this.assignmentStreams.push(pipe)
    return pipe.iterate(options?.signal)
  }

  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    this.requests.push({ call: 'heartbeat', request })
    if (this.heartbeatGate !== undefined) await this.heartbeatGate
    if (this.heartbeatAnswer instanceof Error) throw this.heartbeatAnswer
    return this.heartbeatAnswer
  }

  updateTaskStatus(request: UpdateTaskStatusRequest): Promise<void> {
    this.requests.push({ call: 'updateTaskStatus', request })
    return this.updateError === undefined ? Promise.resolve() : Promise.reject(this.updateError)
  }
}

/** Lets promise callbacks run (the binding without delays needs no clock). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}
