/** Plain store objects for the IPAM tests. */
import { TaskState } from '@swarmkit-ts/api'
import type { Driver, Network, NetworkAttachment, Service, Task, VirtualIP } from '@swarmkit-ts/api'

const meta = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }

type PoolConfig = NonNullable<NonNullable<Network['ipam']>['configs']>[number]

/** A network with allocated pools (and, optionally, a driver state). */
export function network(id: string, name: string, configs: readonly PoolConfig[], driverState?: Driver): Network {
  return {
    id,
    meta,
    spec: { annotations: { name } },
    ...(configs.length > 0 && { ipam: { driver: { name: 'default' }, configs } }),
    ...(driverState !== undefined && { driverState }),
  }
}

/** A service with VIPs. */
export function service(id: string, virtualIps: readonly VirtualIP[]): Service {
  return {
    id,
    meta,
    spec: { annotations: { name: id }, task: { container: { image: 'busybox' } }, mode: { replicated: { replicas: 1 } } },
    endpoint: { virtualIps },
  }
}

/** A task with network attachments. */
export function task(id: string, networks: readonly NetworkAttachment[], state: TaskState = TaskState.RUNNING): Task {
  return {
    id,
    meta,
    spec: { container: { image: 'busybox' } },
    serviceId: 's1',
    slot: 1,
    nodeId: '',
    annotations: { name: id },
    serviceAnnotations: { name: 's1' },
    status: { state, message: '', timestamp: 0 },
    desiredState: TaskState.RUNNING,
    networks,
  }
}

/** The error `fn` throws (fails the test when it throws none). */
export function caught(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error')
}
