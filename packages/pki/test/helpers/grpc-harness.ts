import { Server, makeGenericClientConstructor, status, type ChannelCredentials, type sendUnaryData, type ServerUnaryCall, type Client, type ServerCredentials, type ServiceDefinition, type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js'
import { fromGrpcStatus, type NodeRole } from '@swarmkit-ts/api'
import { authorize, credentials, toServiceError, type AuthorizeOptions, type NodeIdentity } from '../../src/index.ts'

const bytes = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b }
function method(name: string) {
  return {
    path: `/pki.test.Echo/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes.serialize,
    requestDeserialize: bytes.deserialize,
    responseSerialize: bytes.serialize,
    responseDeserialize: bytes.deserialize,
  } as const
}
/** A tiny service: `WhoAmI` (any role) and `ManagerOnly`. */
export const EchoService: ServiceDefinition = { WhoAmI: method('WhoAmI'), ManagerOnly: method('ManagerOnly') }

const EchoClient = makeGenericClientConstructor(EchoService, 'Echo')

export interface Harness {
  port: number
  server: Server
  close(): Promise<void>
}

/** Starts the Echo service on 127.0.0.1:0 with `creds`; handlers authorize with `options`. */
export async function startEcho(creds: ServerCredentials, options: AuthorizeOptions): Promise<Harness> {
  const server = new Server()
  const guard = (roles: NodeRole[]) => (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
    let id: NodeIdentity
    try {
      id = authorize(call, roles, options)
    } catch (err) {
      cb(toServiceError(err))
      return
    }
    cb(null, Buffer.from(JSON.stringify(id)))
  }
  const impl: UntypedServiceImplementation = { WhoAmI: guard(['manager', 'worker']), ManagerOnly: guard(['manager']) }
  server.addService(EchoService, impl)
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err === null ? resolve(p) : reject(err))))
  return { port, server, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) }
}

export type CallResult = { ok: true; identity: NodeIdentity } | { ok: false; code: number; details: string; error: Error }

/** One unary call on a fresh channel (closed afterwards). */
export async function callEcho(port: number, creds: ChannelCredentials, name: 'WhoAmI' | 'ManagerOnly', serverRole: NodeRole = 'manager'): Promise<CallResult> {
  const client = new EchoClient(`127.0.0.1:${port}`, creds, credentials.channelOptions(serverRole)) as Client & Record<string, (req: Buffer, opts: { deadline: number }, cb: (err: ServiceError | null, res?: Buffer) => void) => void>
  try {
    return await new Promise<CallResult>((resolve) => {
      const fn = client[name]
      if (fn === undefined) throw new Error(`no method ${name}`)
      fn.call(client, Buffer.alloc(0), { deadline: Date.now() + 10_000 }, (err, res) => {
        if (err !== null) {
          const md: Record<string, string> = {}
          for (const [k, v] of Object.entries(err.metadata?.getMap() ?? {})) md[k] = String(v)
          resolve({ ok: false, code: err.code, details: err.details, error: fromGrpcStatus({ code: err.code, details: err.details, metadata: md }) })
        } else resolve({ ok: true, identity: JSON.parse((res ?? Buffer.alloc(0)).toString('utf8')) as NodeIdentity })
      })
    })
  } finally {
    client.close()
  }
}

export { status }
