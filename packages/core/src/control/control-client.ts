/**
 * `ControlClient`: the {@link ControlApi} over a grpc-js channel to a manager's control service
 * (its mTLS cluster address, or the local control socket). Every error a call fails with is the
 * typed error the server threw (`fromGrpcError`); transport failures are `UnavailableError`.
 *
 * @module
 */
import { Client, Metadata, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js'
import { InvalidArgumentError, decodeObject, decodeStoreEvent, encodeSpec } from '@swarmkit-ts/api'
import type {
  Cluster,
  ClusterSpec,
  Config,
  ConfigSpec,
  JoinTokens,
  Network,
  NetworkSpec,
  Node,
  NodeRole,
  NodeSpec,
  ObjectKind,
  ObjectKinds,
  Secret,
  SecretSpec,
  ServiceSpec,
  Task,
} from '@swarmkit-ts/api'
import type { Frozen, WatchEvent } from '@swarmkit-ts/store'
import { readServerStream } from '../rpc/stream.ts'
import type {
  CommonFilters,
  ConfigsApi,
  ControlApi,
  ControlWatchOptions,
  ControlWatchSelector,
  NetworksApi,
  NodeFilters,
  NodeRemoveOptions,
  NodesApi,
  SecretsApi,
  ServiceFilters,
  ServicesApi,
  TaskFilters,
  TasksApi,
  VersionOptions,
} from './control-api.ts'
import { FORWARDED_METADATA_KEY, INFO_METHOD, WATCH_METHOD, controlPath } from './control-methods.ts'
import { ControlSessionClient } from './control-session.ts'
import { decodeResponse, decodeWatchMessage, encodeRequest, encodeWatchRequest, type WireRequest, type WireResponse } from './control-wire.ts'
import { deepFreeze } from './frozen.ts'
import { LogsClient, type LogCallOptions, type LogMessage, type SubscribeLogsRequest } from '../logs/index.ts'

/** Construction options of {@link ControlClient}. */
export interface ControlClientInit {
  /** The manager's address: `host:port`, or `unix:/path/to/socket`. */
  readonly address: string
  /** Channel credentials: pki's `credentials.forClient(...)`, or insecure for the local socket. */
  readonly credentials: ChannelCredentials
  /** grpc-js channel options (e.g. pki's `credentials.channelOptions()` for the TLS server name). */
  readonly channelOptions?: ChannelOptions
  /** Fail each unary call after this many ms (`UnavailableError`). Default: no deadline. */
  readonly callTimeoutMs?: number
  /**
   * Mark every call as forwarded by a manager (`LeaderForwardingControl`): the receiving manager
   * answers it itself or refuses with `NotLeaderError`, never forwarding it on.
   */
  readonly forwarded?: boolean
}

const identity = (b: Buffer): Buffer => b

function version(options: VersionOptions | undefined): { version?: bigint } {
  return options?.version === undefined ? {} : { version: options.version }
}

/** What {@link ControlClient.info} answers: about the manager called itself (not forwarded). */
export interface ControlInfo {
  /** The node id of the manager serving the control API (Docker's `info.Swarm.NodeID`). */
  readonly nodeId: string
}

/** The control API of a remote manager. Call {@link ControlClient.close} when done. */
export class ControlClient implements ControlApi {
  readonly services: ServicesApi
  readonly tasks: TasksApi
  readonly nodes: NodesApi
  readonly networks: NetworksApi
  readonly secrets: SecretsApi
  readonly configs: ConfigsApi
  /** The address this client dials. */
  readonly address: string
  readonly #client: Client
  /** The unary calls, multiplexed on one stream (see `control-session.ts`). */
  readonly #session: ControlSessionClient
  readonly #timeoutMs: number | undefined
  readonly #forwarded: boolean
  readonly #credentials: ChannelCredentials
  readonly #channelOptions: ChannelOptions | undefined
  #logs: LogsClient | undefined

  constructor(init: ControlClientInit) {
    if (typeof init.address !== 'string' || init.address === '') throw new InvalidArgumentError('address', 'must be a non-empty string')
    this.address = init.address
    // Without channelz unless asked for: its per-call bookkeeping costs 5–10 % of a call's CPU.
    this.#client = new Client(init.address, init.credentials, { 'grpc.enable_channelz': 0, ...init.channelOptions })
    this.#timeoutMs = init.callTimeoutMs
    this.#forwarded = init.forwarded ?? false
    this.#session = new ControlSessionClient(this.#client, () => this.#metadata(), this.#timeoutMs)
    this.#credentials = init.credentials
    this.#channelOptions = init.channelOptions
    const call = (method: string, req: WireRequest): Promise<WireResponse> => this.#unary(method, req)
    const one = async <K extends ObjectKind>(kind: K, method: string, req: WireRequest): Promise<Frozen<ObjectKinds[K]>> => objectOf(kind, await call(method, req))
    const many = async <K extends ObjectKind>(kind: K, method: string, req: WireRequest): Promise<readonly Frozen<ObjectKinds[K]>[]> =>
      objectsOf(kind, await call(method, req))
    const spec = <K extends 'service' | 'node' | 'network' | 'secret' | 'config' | 'cluster'>(kind: K, s: Parameters<typeof encodeSpec<K>>[1]): Uint8Array => encodeSpec(kind, s)
    this.services = {
      create: async (s: ServiceSpec) => one('service', 'CreateService', { spec: spec('service', s) }),
      get: async (id: string) => one('service', 'GetService', { id }),
      list: async (filters?: ServiceFilters) => many('service', 'ListServices', filters === undefined ? {} : { filters }),
      update: async (id: string, s: ServiceSpec, o?: VersionOptions) => one('service', 'UpdateService', { id, spec: spec('service', s), ...version(o) }),
      scale: async (id: string, replicas: number, o?: VersionOptions) => one('service', 'ScaleService', { id, replicas, ...version(o) }),
      rollback: async (id: string, o?: VersionOptions) => one('service', 'RollbackService', { id, ...version(o) }),
      remove: async (id: string) => void (await call('RemoveService', { id })),
    } satisfies ServicesApi
    this.tasks = {
      get: async (id: string): Promise<Frozen<Task>> => one('task', 'GetTask', { id }),
      list: async (filters?: TaskFilters) => many('task', 'ListTasks', filters === undefined ? {} : { filters }),
    }
    this.nodes = {
      get: async (id: string): Promise<Frozen<Node>> => one('node', 'GetNode', { id }),
      list: async (filters?: NodeFilters) => many('node', 'ListNodes', filters === undefined ? {} : { filters }),
      update: async (id: string, s: NodeSpec, o?: VersionOptions) => one('node', 'UpdateNode', { id, spec: spec('node', s), ...version(o) }),
      remove: async (id: string, o?: NodeRemoveOptions) => void (await call('RemoveNode', { id, force: o?.force ?? false })),
    }
    this.networks = {
      create: async (s: NetworkSpec): Promise<Frozen<Network>> => one('network', 'CreateNetwork', { spec: spec('network', s) }),
      get: async (id: string) => one('network', 'GetNetwork', { id }),
      list: async (filters?: CommonFilters) => many('network', 'ListNetworks', filters === undefined ? {} : { filters }),
      remove: async (id: string) => void (await call('RemoveNetwork', { id })),
    }
    this.secrets = {
      create: async (s: SecretSpec): Promise<Frozen<Secret>> => one('secret', 'CreateSecret', { spec: spec('secret', s) }),
      get: async (id: string) => one('secret', 'GetSecret', { id }),
      list: async (filters?: CommonFilters) => many('secret', 'ListSecrets', filters === undefined ? {} : { filters }),
      update: async (id: string, s: SecretSpec, o?: VersionOptions) => one('secret', 'UpdateSecret', { id, spec: spec('secret', s), ...version(o) }),
      remove: async (id: string) => void (await call('RemoveSecret', { id })),
    }
    this.configs = {
      create: async (s: ConfigSpec): Promise<Frozen<Config>> => one('config', 'CreateConfig', { spec: spec('config', s) }),
      get: async (id: string) => one('config', 'GetConfig', { id }),
      list: async (filters?: CommonFilters) => many('config', 'ListConfigs', filters === undefined ? {} : { filters }),
      update: async (id: string, s: ConfigSpec, o?: VersionOptions) => one('config', 'UpdateConfig', { id, spec: spec('config', s), ...version(o) }),
      remove: async (id: string) => void (await call('RemoveConfig', { id })),
    }
  }

  async getCluster(): Promise<Frozen<Cluster>> {
    return objectOf('cluster', await this.#unary('GetCluster', {}))
  }

  async updateCluster(spec: ClusterSpec, options?: VersionOptions): Promise<Frozen<Cluster>> {
    return objectOf('cluster', await this.#unary('UpdateCluster', { spec: encodeSpec('cluster', spec), ...version(options) }))
  }

  async joinTokens(): Promise<Frozen<JoinTokens>> {
    return tokensOf(await this.#unary('GetJoinTokens', {}))
  }

  async rotateJoinToken(role: NodeRole): Promise<Frozen<JoinTokens>> {
    return tokensOf(await this.#unary('RotateJoinToken', { role }))
  }

  async unlockKey(): Promise<string | undefined> {
    return (await this.#unary('GetUnlockKey', {})).key
  }

  async rotateUnlockKey(): Promise<string> {
    const key = (await this.#unary('RotateUnlockKey', {})).key
    if (key === undefined) throw new InvalidArgumentError('key', 'the server answered no unlock key')
    return key
  }

  /**
   * About the manager this client talks to, answered by that manager itself (never forwarded to
   * the leader): its node id (`swarmkit node ls` marks it with `*`).
   */
  async info(): Promise<ControlInfo> {
    const nodeId = (await this.#unary(INFO_METHOD, {})).nodeId
    if (nodeId === undefined) throw new InvalidArgumentError('nodeId', 'the server answered no node id')
    return { nodeId }
  }

  /**
   * Store events from the manager. The call starts now; events committed before the server has
   * registered the watch are missed unless `options.since` names the version to resume after.
   */
  watch(selector: ControlWatchSelector = {}, options?: ControlWatchOptions): AsyncIterable<WatchEvent> {
    const request = encodeWatchRequest(options?.since === undefined ? { selector } : { selector, since: options.since })
    const call = this.#client.makeServerStreamRequest(controlPath(WATCH_METHOD), identity, identity, request, this.#metadata())
    return readServerStream(call, (b) => deepFreeze<WatchEvent>(decodeStoreEvent(decodeWatchMessage(b))), options?.signal)
  }

  /** Closes the channel; calls in flight fail with `UnavailableError`. */
  close(): void {
    this.#session.close()
    this.#client.close()
    this.#logs?.close()
  }

  /**
   * The logs of services, tasks or nodes (`Logs/SubscribeLogs` at the same address): through a
   * manager's local control socket any manager forwards to the leader's broker; on a manager's
   * cluster address only the leader answers (`NotLeaderError` elsewhere). Ends when the signal
   * aborts (without an error), or, without `follow`, once every node sent its lines.
   */
  logs(request: SubscribeLogsRequest, options: LogCallOptions = {}): AsyncIterable<LogMessage> {
    this.#logs ??= new LogsClient({ address: this.address, credentials: this.#credentials, ...(this.#channelOptions === undefined ? {} : { channelOptions: this.#channelOptions }) })
    return this.#logs.subscribe(request, options)
  }

  #metadata(): Metadata {
    const md = new Metadata()
    if (this.#forwarded) md.set(FORWARDED_METADATA_KEY, '1')
    return md
  }

  /**
   * Sends an encoded request envelope of unary `method` as is and resolves with the encoded
   * response: how a follower passes a call on to the leader without decoding and re-encoding it
   * (`LeaderForwardingControl.passThrough`). Rejects with the typed error the server answered.
   */
  forwardRaw(method: string, request: Buffer): Promise<Buffer> {
    return this.#session.call(method, request)
  }

  async #unary(method: string, req: WireRequest): Promise<WireResponse> {
    return decodeResponse(await this.forwardRaw(method, encodeRequest(req)))
  }
}

function objectOf<K extends ObjectKind>(kind: K, res: WireResponse): Frozen<ObjectKinds[K]> {
  if (res.object === undefined) throw new InvalidArgumentError('object', `the server answered no ${kind}`)
  return deepFreeze(decodeObject(kind, res.object)) as Frozen<ObjectKinds[K]>
}

function objectsOf<K extends ObjectKind>(kind: K, res: WireResponse): readonly Frozen<ObjectKinds[K]>[] {
  return Object.freeze((res.objects ?? []).map((b) => deepFreeze(decodeObject(kind, b)) as Frozen<ObjectKinds[K]>))
}

function tokensOf(res: WireResponse): Frozen<JoinTokens> {
  if (res.tokens === undefined) throw new InvalidArgumentError('tokens', 'the server answered no join tokens')
  return Object.freeze({ ...res.tokens })
}
