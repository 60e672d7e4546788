/**
 * A locked manager waiting for its unlock key — Docker's `swarm unlock`. An autolocked manager
 * opened without its key (`Cluster.open({ waitForUnlock: true })`) serves, on its control socket,
 * only `swarmkit.core.v1.Unlock/Unlock`: every control call is refused with `ClusterLockedError`
 * saying how to unlock. A right key opens the manager's key file and the node starts; a wrong one
 * is refused with `ClusterLockedError` and the node stays locked.
 *
 * @module
 */
import { Client, credentials, status, type Server, type ServerUnaryCall, type ServiceError, type sendUnaryData } from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { ClusterLockedError, FailedPreconditionError, InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'
import { ManagerKeyStore } from '@swarmkit-ts/pki'
import { serveControlSocket } from '../control/index.ts'
import { fromGrpcError, toGrpcError } from '../rpc/errors.ts'
import { rawMethod } from '../rpc/raw-method.ts'

/** The Unlock method's path. */
const UNLOCK_PATH = '/swarmkit.core.v1.Unlock/Unlock'
const UnlockRequest = new protobuf.Type('UnlockRequest').add(new protobuf.Field('key', 1, 'string'))

/** What a control call on a locked manager answers. */
export function lockedError(): ClusterLockedError {
  return new ClusterLockedError('this node is locked: its keys are sealed under the unlock key. Unlock it with `swarmkit swarm unlock` (or open it with the unlock key)')
}

/** What {@link waitForUnlock} needs. */
export interface WaitForUnlockOptions {
  /** The manager's key file (`manager-keys.json`). */
  readonly keyFile: string
  /** The control socket path to serve while locked. */
  readonly socketPath: string
  /** The manager's node id (answered by the control `Info` call). */
  readonly nodeId?: string | undefined
  /** Gives up waiting (rejects with the signal's reason). */
  readonly signal?: AbortSignal | undefined
  /** Called once the locked socket serves. */
  readonly onLocked?: ((socketPath: string) => void) | undefined
}

/**
 * Serves the locked control socket until a right unlock key arrives; resolves with the opened key
 * store and the key, the socket closed (so the manager can serve its own there).
 */
export async function waitForUnlock(options: WaitForUnlockOptions): Promise<{ keys: ManagerKeyStore; unlockKey: string }> {
  options.signal?.throwIfAborted()
  let settle: ((v: { keys: ManagerKeyStore; unlockKey: string }) => void) | undefined
  let fail: ((err: unknown) => void) | undefined
  const opened = new Promise<{ keys: ManagerKeyStore; unlockKey: string }>((resolve, reject) => {
    settle = resolve
    fail = reject
  })
  let unlocking = false
  let served: Server | undefined
  const unlock = async (key: string): Promise<void> => {
    if (unlocking) throw new FailedPreconditionError('an unlock is already in progress', { reason: 'unlocking' })
    unlocking = true
    try {
      const keys = await ManagerKeyStore.open(options.keyFile, { unlockKey: key })
      settle?.({ keys, unlockKey: key })
    } finally {
      unlocking = false
    }
  }
  const socket = await serveControlSocket(
    options.socketPath,
    () => {
      throw lockedError()
    },
    {
      ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
      addServices: (server) => {
        served = server
        addUnlockService(server, unlock)
      },
    },
  )
  const onAbort = (): void => fail?.(options.signal?.reason)
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    if (options.signal?.aborted === true) onAbort()
    else options.onLocked?.(options.socketPath)
    return await opened
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    // The answer to the unlock call goes out before the socket closes: a graceful shutdown first.
    const server = served
    if (server !== undefined) {
      let timer: NodeJS.Timeout | undefined
      // A client holding a call open must not keep the node locked: forced after a while.
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 5000)
        server.tryShutdown(() => resolve())
      })
      clearTimeout(timer)
    }
    await socket.close()
  }
}

/** Registers `swarmkit.core.v1.Unlock` on `server`: `unlock(key)` throws `ClusterLockedError` for a wrong key. */
export function addUnlockService(server: Server, unlock: (key: string) => Promise<void>): void {
  server.addService(
    { Unlock: rawMethod(UNLOCK_PATH, 'Unlock') },
    {
      Unlock: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        let key: string
        try {
          key = decodeKey(call.request)
        } catch (err) {
          callback(toGrpcError(err))
          return
        }
        unlock(key).then(
          () => callback(null, Buffer.alloc(0)),
          (err: unknown) => callback(toGrpcError(err)),
        )
      },
    },
  )
}

function decodeKey(bytes: Buffer): string {
  let key: unknown
  try {
    key = (UnlockRequest.decode(bytes) as unknown as { key?: unknown }).key
  } catch (err) {
    throw new InvalidArgumentError('unlockKey', 'undecodable unlock request', { cause: err })
  }
  if (typeof key !== 'string' || key === '') throw new InvalidArgumentError('unlockKey', 'must be an unlock key (SWMKEY-1-…)')
  return key
}

/**
 * Sends `unlockKey` to the locked manager serving the control socket at `socketPath` (what
 * `swarmkit swarm unlock` does). Resolves once the manager accepted the key (it then starts).
 *
 * @throws InvalidArgumentError (`unlockKey`) for an empty key; ClusterLockedError for a wrong key
 *   (the node stays locked); FailedPreconditionError (reason `not-locked`) when the manager there
 *   is not locked; UnavailableError when nothing answers at `socketPath`.
 */
export async function unlockControlSocket(socketPath: string, unlockKey: string, options: { callTimeoutMs?: number } = {}): Promise<void> {
  if (typeof socketPath !== 'string' || socketPath === '') throw new InvalidArgumentError('path', 'must be a non-empty path')
  if (typeof unlockKey !== 'string' || unlockKey.trim() === '') throw new InvalidArgumentError('unlockKey', 'must be an unlock key (SWMKEY-1-…)')
  const client = new Client(`unix:${socketPath}`, credentials.createInsecure())
  const request = Buffer.from(UnlockRequest.encode(UnlockRequest.fromObject({ key: unlockKey.trim() })).finish())
  const raw = (b: Buffer): Buffer => b
  try {
    await new Promise<void>((resolve, reject) => {
      client.makeUnaryRequest(UNLOCK_PATH, raw, raw, request, { deadline: Date.now() + (options.callTimeoutMs ?? 30_000) }, (err: ServiceError | null) => {
        if (err === null) resolve()
        else if (err.code === status.UNIMPLEMENTED) reject(new FailedPreconditionError('this node is not locked', { reason: 'not-locked' }))
        else if (err.code === status.UNAVAILABLE) reject(new UnavailableError(`cannot reach the manager at unix://${socketPath}: ${err.details} (is it running?)`, { cause: err }))
        else reject(fromGrpcError(err))
      })
    })
  } finally {
    client.close()
  }
}
