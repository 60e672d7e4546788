/**
 * Small deterministic objects for the store tests.
 */
import { TaskState } from '@swarmkit-ts/api'
import type { Config, Network, Node, Secret, Service, Task, TaskState as TaskStateValue } from '@swarmkit-ts/api'
import type { NewObject } from '../src/index.ts'

/** A valid id: `ns` (one letter) then `n` in base36, 25 characters in all. */
export function tid(ns: string, n: number): string {
  return ns + n.toString(36).padStart(24, '0')
}

/** A service named `name`. */
export function service(id: string, name: string, extra: { labels?: Record<string, string>; networks?: string[]; secrets?: string[]; configs?: string[] } = {}): NewObject<'service'> {
  const container: NonNullable<Service['spec']['task']['container']> = {
    image: 'busybox',
    ...(extra.secrets === undefined ? {} : { secrets: extra.secrets.map((s) => ({ secretId: s, secretName: s, file: { name: s, uid: '0', gid: '0', mode: 0o444 } })) }),
    ...(extra.configs === undefined ? {} : { configs: extra.configs.map((c) => ({ configId: c, configName: c, file: { name: c, uid: '0', gid: '0', mode: 0o444 } })) }),
  }
  return {
    id,
    spec: {
      annotations: { name, ...(extra.labels === undefined ? {} : { labels: extra.labels }) },
      task: { container, ...(extra.networks === undefined ? {} : { networks: extra.networks.map((target) => ({ target })) }) },
      mode: { replicated: { replicas: 1 } },
    },
  }
}

/** A task of `serviceId` in `slot`. */
export function task(
  id: string,
  serviceId: string,
  slot: number,
  extra: { nodeId?: string; state?: TaskStateValue; desired?: TaskStateValue; labels?: Record<string, string>; networks?: string[]; secrets?: string[]; name?: string } = {},
): NewObject<'task'> {
  return {
    id,
    spec: {
      container: {
        image: 'busybox',
        ...(extra.secrets === undefined ? {} : { secrets: extra.secrets.map((s) => ({ secretId: s, secretName: s, file: { name: s, uid: '0', gid: '0', mode: 0o444 } })) }),
      },
    },
    serviceId,
    slot,
    nodeId: extra.nodeId ?? '',
    annotations: { name: extra.name ?? '', ...(extra.labels === undefined ? {} : { labels: extra.labels }) },
    serviceAnnotations: { name: 'svc' },
    status: { timestamp: 0, state: extra.state ?? TaskState.NEW },
    desiredState: extra.desired ?? TaskState.RUNNING,
    ...(extra.networks === undefined ? {} : { networks: extra.networks.map((networkId) => ({ networkId })) }),
  }
}

/** A node. */
export function node(id: string, hostname: string, role: Node['role'] = 'worker', membership: Node['spec']['membership'] = 'accepted'): NewObject<'node'> {
  return {
    id,
    spec: { annotations: { name: hostname }, desiredRole: role, membership, availability: 'active' },
    description: { hostname },
    status: { state: 'ready' },
    role,
  }
}

/** A secret. */
export function secret(id: string, name: string, bytes = 4): NewObject<'secret'> {
  return { id, spec: { annotations: { name }, data: new Uint8Array(bytes).fill(120) } } satisfies Omit<Secret, 'meta'>
}

/** A config. */
export function config(id: string, name: string): NewObject<'config'> {
  return { id, spec: { annotations: { name }, data: new Uint8Array([1, 2, 3]) } } satisfies Omit<Config, 'meta'>
}

/** A network. */
export function network(id: string, name: string): NewObject<'network'> {
  return { id, spec: { annotations: { name } } } satisfies Omit<Network, 'meta'>
}

/** Everything in the store, kind → id → object, for equality checks. */
export type Dump = Record<string, Record<string, unknown>>

/** The result of `fn` or the error it threw, awaited. */
export async function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  try {
    return { ok: true, value: await p }
  } catch (error) {
    return { ok: false, error: error as Error }
  }
}

export type { Task }
