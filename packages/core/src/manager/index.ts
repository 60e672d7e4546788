/**
 * The manager node (part M of issue 18).
 *
 * @module
 */
export type { LeaderComponent, LeaderComponentHandle, LeaderContext } from './leader-component.ts'
