/**
 * The (deeply readonly) object types the control API hands out, named for the commands.
 *
 * @module
 */
import type { ControlApi } from '@swarmkit-ts/core'

/** A service as read. */
export type ServiceObject = Awaited<ReturnType<ControlApi['services']['get']>>
/** A task as read. */
export type TaskObject = Awaited<ReturnType<ControlApi['tasks']['get']>>
/** A node as read. */
export type NodeObject = Awaited<ReturnType<ControlApi['nodes']['get']>>
/** Published ports as read. */
export type PortList = NonNullable<NonNullable<ServiceObject['endpoint']>['ports']>
