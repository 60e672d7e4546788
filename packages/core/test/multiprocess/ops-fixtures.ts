/**
 * Fixtures of the operations scenarios (availability and labels, refused joins, removed nodes):
 * a join process expected to fail, raw gRPC calls to every method a manager serves (with or
 * without a client certificate), and a node's certificate read from its state directory.
 * Everything started here is stopped after each test.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { Client, credentials as grpcCredentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js'
import { SequenceConflictError, TaskState } from '@swarmkit-ts/api'
import type { NodeSpec, Task } from '@swarmkit-ts/api'
import { credentials, type TlsMaterial } from '@swarmkit-ts/pki'
import type { Frozen } from '@swarmkit-ts/store'
import { NodeProcess, type Exit } from '../../../../examples/manager-binary/src/node-process.ts'
import type { ReadyLine } from '../../../../examples/manager-binary/src/main.ts'
import type { ControlClient } from '../../src/index.ts'
import { caServerDefinition } from '../../src/ca/wire.ts'
import { CONTROL_METHODS, controlPath, WATCH_METHOD } from '../../src/control/control-methods.ts'
import { dispatcherServiceDefinition } from '../../src/dispatcher/definition.ts'
import { logBrokerServerDefinition, logsServerDefinition } from '../../src/logs/wire.ts'
import { membershipServiceDefinition } from '../../src/manager/membership-service.ts'
import { FAST_FLAGS } from './processes.ts'

/** A gRPC method as a raw caller needs it. */
export interface MethodShape {
  readonly path: string
  readonly requestStream: boolean
  readonly responseStream: boolean
  /** Request metadata to send (Raft's calls name their sending member). */
  readonly metadata?: Readonly<Record<string, string>>
}

const shape = (m: MethodShape): MethodShape => ({ path: m.path, requestStream: m.requestStream, responseStream: m.responseStream })

/** Raft's request metadata naming the sending member (here member 1). */
const RAFT_ORIGIN = { 'x-raft-origin-id': '1' } as const

/** The CA's methods (the only ones a caller without a certificate may use). */
export const CA_METHODS: readonly MethodShape[] = Object.values(caServerDefinition).map(shape)

/** Every method a manager serves but the CA's, by service: control, dispatcher, logs, membership, raft. */
export const AUTHENTICATED_METHODS: readonly MethodShape[] = [
  ...Object.keys(CONTROL_METHODS).map((m) => ({ path: controlPath(m), requestStream: false, responseStream: false })),
  { path: controlPath(WATCH_METHOD), requestStream: false, responseStream: true },
  ...Object.values(dispatcherServiceDefinition).map(shape),
  ...Object.values(logsServerDefinition).map(shape),
  ...Object.values(logBrokerServerDefinition).map(shape),
  ...Object.values(membershipServiceDefinition).map(shape),
  // Raft's transport (@swarmkit-ts/raft/grpc; a wrong path would answer UNIMPLEMENTED, not
  // PERMISSION_DENIED), each call claiming to come from member 1 so that the certificate decides.
  { path: '/swarmkit.raft.v1.Raft/Stream', requestStream: true, responseStream: false, metadata: RAFT_ORIGIN },
  { path: '/swarmkit.raft.v1.Raft/SendSnapshot', requestStream: true, responseStream: false, metadata: RAFT_ORIGIN },
]

/** How a raw call ended: its gRPC status code (`status.OK` for an answer or a first streamed message) and details. */
export interface CallOutcome {
  readonly code: status
  readonly details: string
}

const raw = (b: Buffer): Buffer => b

/** Clients opened by {@link rawCall}, closed after each test. */
const clients = new Set<Client>()
/** Processes started by {@link failedStart} and {@link startedProcess}, killed after each test. */
const joins = new Set<NodeProcess>()

afterEach(async () => {
  for (const c of clients) c.close()
  clients.clear()
  for (const p of joins) await p.kill()
  joins.clear()
})

/**
 * Calls `method` on the manager at `address` with an empty request (and, for a client stream, no
 * message), and says how it ended. A streamed answer counts as OK at its first message (the
 * stream is then cancelled). `guardMs` is a deadline against hanging only.
 */
export function rawCall(address: string, creds: ChannelCredentials, method: MethodShape, guardMs = 30_000): Promise<CallOutcome> {
  const client = new Client(address, creds, credentials.channelOptions('manager'))
  clients.add(client)
  const options = { deadline: Date.now() + guardMs }
  const metadata = (): Metadata => {
    const md = new Metadata()
    for (const [k, v] of Object.entries(method.metadata ?? {})) md.set(k, v)
    return md
  }
  return new Promise<CallOutcome>((resolve) => {
    const done = (err: ServiceError | null): void => {
      client.close()
      clients.delete(client)
      resolve(err === null ? { code: status.OK, details: '' } : { code: err.code, details: err.details })
    }
    if (method.requestStream) {
      const call = client.makeClientStreamRequest(method.path, raw, raw, metadata(), options, (err) => done(err))
      call.end()
    } else if (method.responseStream) {
      const call = client.makeServerStreamRequest(method.path, raw, raw, Buffer.alloc(0), metadata(), options)
      let settled = false
      call.on('data', () => {
        if (settled) return
        settled = true
        call.cancel()
        done(null)
      })
      call.on('error', (err: ServiceError) => {
        if (settled) return
        settled = true
        done(err)
      })
      call.on('status', (s: { code: status; details: string }) => {
        if (settled) return
        settled = true
        done(s.code === status.OK ? null : Object.assign(new Error(s.details), { code: s.code, details: s.details, metadata: new Metadata() }))
      })
    } else {
      client.makeUnaryRequest(method.path, raw, raw, Buffer.alloc(0), metadata(), options, (err) => done(err))
    }
  })
}

/** TLS trusting the cluster's root `rootCaPem`, presenting no client certificate. */
export function anonymousCredentials(rootCaPem: string): ChannelCredentials {
  return grpcCredentials.createSsl(Buffer.from(rootCaPem), null, null, { checkServerIdentity: () => undefined })
}

/** The node certificate material a node keeps in `<stateDir>/certificates/` (a worker's: key, chain, trust bundle). */
export async function certificateOf(stateDir: string): Promise<TlsMaterial> {
  const dir = join(stateDir, 'certificates')
  const [keyPem, certChainPem, trustBundlePem] = await Promise.all(['swarm-node.key', 'swarm-node.crt', 'swarm-root-ca.crt'].map((f) => readFile(join(dir, f), 'utf8')))
  return { keyPem: keyPem ?? '', certChainPem: certChainPem ?? '', trustBundlePem: trustBundlePem ?? '' }
}

/** The cluster's root CA certificate as a node keeps it. */
export function rootCaOf(stateDir: string): Promise<string> {
  return readFile(join(stateDir, 'certificates', 'swarm-root-ca.crt'), 'utf8')
}

/** A manager-binary process that should not start: how it exited and its stderr. */
export interface FailedStart {
  readonly exit: Exit
  readonly stderr: string
}

/** Runs manager-binary with `args` (plus the fast flags) until it exits; it must exit before being ready. */
export async function failedStart(args: readonly string[]): Promise<FailedStart> {
  const p = NodeProcess.start([...args, ...FAST_FLAGS])
  joins.add(p)
  const ready = await p.ready.then(
    (line) => line,
    () => undefined,
  )
  if (ready !== undefined) throw new Error(`manager-binary ${args[0] ?? ''} started (${JSON.stringify(ready)}) but was expected to fail`)
  const exit = await p.exited
  joins.delete(p)
  return { exit, stderr: p.stderr }
}

/**
 * Rewrites node `nodeId`'s spec with `change` through `control` (as `docker node update`), reading
 * the node again when its version moved meanwhile (its status is written by the dispatcher too).
 */
export async function updateNode(control: ControlClient, nodeId: string, change: (spec: NodeSpec) => NodeSpec): Promise<void> {
  for (;;) {
    const node = await control.nodes.get(nodeId)
    try {
      await control.nodes.update(nodeId, change(structuredClone(node.spec)), { version: node.meta.version.index })
      return
    } catch (err) {
      if (!(err instanceof SequenceConflictError)) throw err
    }
  }
}

/** The tasks of `serviceId` with desired state RUNNING that run, as `control` lists them. */
export async function runningTasks(control: ControlClient, serviceId: string): Promise<readonly Frozen<Task>[]> {
  const tasks = await control.tasks.list({ serviceIds: [serviceId], desiredStates: [TaskState.RUNNING] })
  return tasks.filter((t) => t.status.state === TaskState.RUNNING)
}

/** Runs manager-binary with `args` (plus the fast flags) until its ready line; killed after the test. */
export async function startedProcess(args: readonly string[]): Promise<{ process: NodeProcess; ready: ReadyLine }> {
  const p = NodeProcess.start([...args, ...FAST_FLAGS])
  joins.add(p)
  return { process: p, ready: await p.ready }
}
