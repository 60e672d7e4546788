/**
 * The unary methods of the `swarmkit.core.v1.Control` service: each method's name and what the
 * server does with a request envelope (decode the spec, call the `ControlApi`, encode the answer).
 * The client (`ControlClient`) is written against the same names.
 *
 * @module
 */
import { InvalidArgumentError, decodeSpec, encodeObjectPooled } from '@swarmkit-ts/api'
import type { NodeRole, ObjectKind, ObjectKinds, SpecKind, SpecKinds } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { ControlApi } from './control-api.ts'
import type { WireRequest, WireResponse } from './control-wire.ts'

/** The fully qualified service name. */
export const CONTROL_SERVICE_NAME = 'swarmkit.core.v1.Control'

/** The method path of `method`. */
export function controlPath(method: string): string {
  return `/${CONTROL_SERVICE_NAME}/${method}`
}

/** Request metadata key marking a call forwarded by another manager (never forwarded again). */
export const FORWARDED_METADATA_KEY = 'swarmkit-control-forwarded'

/** The server-streaming watch method. */
export const WATCH_METHOD = 'Watch'

/** The unary method answered by the manager called, never forwarded: its own node id (`ControlClient.info`). */
export const INFO_METHOD = 'Info'

function id(req: WireRequest): string {
  if (req.id === undefined) throw new InvalidArgumentError('id', 'must be a non-empty string')
  return req.id
}

function spec<K extends SpecKind>(kind: K, req: WireRequest): SpecKinds[K] {
  if (req.spec === undefined) throw new InvalidArgumentError('spec', 'is required')
  return decodeSpec(kind, req.spec)
}

function replicas(req: WireRequest): number {
  if (req.replicas === undefined) throw new InvalidArgumentError('replicas', 'is required')
  return req.replicas
}

function version(req: WireRequest): { version?: bigint } {
  return req.version === undefined ? {} : { version: req.version }
}

/** An object as the wire carries it (api's codec takes the mutable type; nothing is written). */
function one<K extends ObjectKind>(kind: K, obj: Frozen<ObjectKinds[K]>): WireResponse {
  return { object: encodeObjectPooled(kind, obj as ObjectKinds[K]) }
}

function many<K extends ObjectKind>(kind: K, list: readonly Frozen<ObjectKinds[K]>[]): WireResponse {
  return { objects: list.map((o) => encodeObjectPooled(kind, o as ObjectKinds[K])) }
}

const NONE: WireResponse = {}

/** What the server does for each unary method. */
export const CONTROL_METHODS: Readonly<Record<string, (control: ControlApi, req: WireRequest) => Promise<WireResponse>>> = {
  CreateService: async (c, r) => one('service', await c.services.create(spec('service', r))),
  GetService: async (c, r) => one('service', await c.services.get(id(r))),
  ListServices: async (c, r) => many('service', await c.services.list(r.filters)),
  UpdateService: async (c, r) => one('service', await c.services.update(id(r), spec('service', r), version(r))),
  ScaleService: async (c, r) => one('service', await c.services.scale(id(r), replicas(r), version(r))),
  RollbackService: async (c, r) => one('service', await c.services.rollback(id(r), version(r))),
  RemoveService: async (c, r) => (await c.services.remove(id(r)), NONE),
  GetTask: async (c, r) => one('task', await c.tasks.get(id(r))),
  ListTasks: async (c, r) => many('task', await c.tasks.list(r.filters)),
  GetNode: async (c, r) => one('node', await c.nodes.get(id(r))),
  ListNodes: async (c, r) => many('node', await c.nodes.list(r.filters)),
  UpdateNode: async (c, r) => one('node', await c.nodes.update(id(r), spec('node', r), version(r))),
  RemoveNode: async (c, r) => (await c.nodes.remove(id(r), { force: r.force ?? false }), NONE),
  CreateNetwork: async (c, r) => one('network', await c.networks.create(spec('network', r))),
  GetNetwork: async (c, r) => one('network', await c.networks.get(id(r))),
  ListNetworks: async (c, r) => many('network', await c.networks.list(r.filters)),
  RemoveNetwork: async (c, r) => (await c.networks.remove(id(r)), NONE),
  CreateSecret: async (c, r) => one('secret', await c.secrets.create(spec('secret', r))),
  GetSecret: async (c, r) => one('secret', await c.secrets.get(id(r))),
  ListSecrets: async (c, r) => many('secret', await c.secrets.list(r.filters)),
  UpdateSecret: async (c, r) => one('secret', await c.secrets.update(id(r), spec('secret', r), version(r))),
  RemoveSecret: async (c, r) => (await c.secrets.remove(id(r)), NONE),
  CreateConfig: async (c, r) => one('config', await c.configs.create(spec('config', r))),
  GetConfig: async (c, r) => one('config', await c.configs.get(id(r))),
  ListConfigs: async (c, r) => many('config', await c.configs.list(r.filters)),
  UpdateConfig: async (c, r) => one('config', await c.configs.update(id(r), spec('config', r), version(r))),
  RemoveConfig: async (c, r) => (await c.configs.remove(id(r)), NONE),
  GetCluster: async (c) => one('cluster', await c.getCluster()),
  UpdateCluster: async (c, r) => one('cluster', await c.updateCluster(spec('cluster', r), version(r))),
  GetJoinTokens: async (c) => ({ tokens: await c.joinTokens() }),
  RotateJoinToken: async (c, r) => ({ tokens: await c.rotateJoinToken((r.role ?? '') as NodeRole) }),
  GetUnlockKey: async (c) => {
    const key = await c.unlockKey()
    return key === undefined ? NONE : { key }
  },
  RotateUnlockKey: async (c) => ({ key: await c.rotateUnlockKey() }),
}
