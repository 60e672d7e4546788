/**
 * The manager membership service (`swarmkit.core.v1.Membership`) on a node's gRPC server:
 * `Join` adds the calling manager to the Raft group, `Leave` takes it out (quorum-loss
 * protected). Only manager certificates of this cluster may call; the joiner's node id is its
 * certificate's CN, never a request field. Followers answer `NotLeaderError` with the leader's
 * address so the caller retries there.
 *
 * @module
 */
import { Client, type ChannelCredentials, type ChannelOptions, type Server, type ServerUnaryCall, type ServiceDefinition, type ServiceError, type sendUnaryData } from '@grpc/grpc-js'
import type { NodeRole, NotLeaderError } from '@swarmkit-ts/api'
import type { CallWithAuthContext, NodeIdentity } from '@swarmkit-ts/pki'
import { fromGrpcError, toGrpcError } from '../rpc/errors.ts'
import { rawMethod } from '../rpc/raw-method.ts'
import { EMPTY, decodeJoinRequest, decodeJoinResponse, encodeJoinRequest, encodeJoinResponse, type JoinResponse } from './membership-wire.ts'

/** The grpc-js definition of the membership service. */
export const membershipServiceDefinition: ServiceDefinition = {
  Join: rawMethod('/swarmkit.core.v1.Membership/Join', 'join'),
  Leave: rawMethod('/swarmkit.core.v1.Membership/Leave', 'leave'),
}

/** What the service asks the manager (`ManagerNode` implements it). */
export interface MembershipHost {
  /**
   * Adds `caller` as a Raft voter reachable at `addr`; resolves once the change is applied. With
   * `rejoin`, `caller` is already a voter and `addr` its new address.
   */
  join(caller: NodeIdentity, addr: string, rejoin: boolean): Promise<JoinResponse>
  /** Removes `caller` from the Raft group (quorum-loss protected). */
  leave(caller: NodeIdentity): Promise<void>
}

/** Dependencies of {@link addMembershipService}. */
export interface MembershipServiceDeps {
  /** The manager answering the calls. */
  host: MembershipHost
  /**
   * Returns the caller's identity when its certificate has one of `roles` (here: manager) in this
   * cluster and is not denied, else throws PermissionDeniedError (e.g. part P's `clusterAuthorizer`).
   */
  authorize: (call: CallWithAuthContext, roles: readonly NodeRole[]) => NodeIdentity
}

/** Registers the membership service on `server`. */
export function addMembershipService(server: Server, deps: MembershipServiceDeps): void {
  const run = <T>(call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>, fn: (caller: NodeIdentity) => Promise<T>, encode: (v: T) => Buffer): void => {
    let caller: NodeIdentity
    try {
      caller = deps.authorize(call, ['manager'])
    } catch (err) {
      cb(toGrpcError(err))
      return
    }
    fn(caller).then(
      (v) => cb(null, encode(v)),
      (err: unknown) => cb(toGrpcError(err)),
    )
  }
  server.addService(membershipServiceDefinition, {
    Join: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      run(call, cb, (caller) => {
        const req = decodeJoinRequest(call.request)
        return deps.host.join(caller, req.addr, req.rejoin)
      }, encodeJoinResponse)
    },
    Leave: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      run(call, cb, (caller) => deps.host.leave(caller), () => EMPTY)
    },
  })
}

/** Options of a {@link MembershipClient} call. */
export interface MembershipCallOptions {
  signal?: AbortSignal | undefined
  /** Deadline of the call. @default 30 s */
  timeoutMs?: number | undefined
}

/** A client of the membership service of the manager at one address. */
export class MembershipClient {
  readonly #client: Client

  /** `credentials`: the caller's mTLS client credentials (pki `credentials.forClient`). */
  constructor(address: string, credentials: ChannelCredentials, options?: ChannelOptions) {
    this.#client = new Client(address, credentials, options)
  }

  /** Asks to join as a voter reachable at `addr` (`rejoin`: already one, now at `addr`). */
  join(addr: string, options?: MembershipCallOptions & { rejoin?: boolean }): Promise<JoinResponse> {
    return this.#call('Join', encodeJoinRequest({ addr, rejoin: options?.rejoin === true }), options).then(decodeJoinResponse)
  }

  /** Asks to leave the Raft group (the caller, by its certificate). */
  leave(options?: MembershipCallOptions): Promise<void> {
    return this.#call('Leave', EMPTY, options).then(() => undefined)
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close()
  }

  #call(method: 'Join' | 'Leave', body: Buffer, options: MembershipCallOptions | undefined): Promise<Buffer> {
    const def = membershipServiceDefinition[method] as ServiceDefinition[string]
    const deadline = Date.now() + (options?.timeoutMs ?? 30_000)
    return new Promise<Buffer>((resolve, reject) => {
      const signal = options?.signal
      if (signal?.aborted === true) {
        reject(abortError(signal))
        return
      }
      const call = this.#client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, body, { deadline }, (err: ServiceError | null, res?: Buffer) => {
        signal?.removeEventListener('abort', onAbort)
        if (err !== null) reject(fromGrpcError(err))
        else resolve(res ?? EMPTY)
      })
      const onAbort = (): void => call.cancel()
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}

/** The signal's reason as an Error. */
function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason
  return r instanceof Error ? r : new DOMException('The operation was aborted', 'AbortError')
}

/** Whether `err` is a NotLeaderError (possibly naming the leader's address). */
export function isNotLeader(err: unknown): err is NotLeaderError {
  return err instanceof Error && err.name === 'NotLeaderError'
}
