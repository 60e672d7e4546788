/**
 * What every route module gets: the manager it serves, the server's lifetime signal, and the
 * engine identity it reports.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify'
import type { ManagerCluster } from '@swarmkit-ts/core'

/** The manager a Docker API server answers for. */
export type DockerApiManager = ManagerCluster

/** The engine identity `/version`, `/info` and the `Server` header report. */
export interface EngineIdentity {
  /** The engine version string (`Version` of `/version`). */
  readonly version: string
  /** The product name (`Platform.Name` of `/version`). */
  readonly platform: string
}

/** The context every route module is registered with. */
export interface RouteContext {
  /** The manager this server answers for. */
  readonly manager: DockerApiManager
  /** Aborts when the server closes: streams (logs, events) end then. */
  readonly signal: AbortSignal
  /** The engine identity reported to clients. */
  readonly engine: EngineIdentity
}

/** The fastify instance routes are registered on (paths without the `/v1.xx` prefix). */
export type DockerApp = FastifyInstance

/** A route module: registers its routes on `app`. */
export type RouteModule = (app: DockerApp, ctx: RouteContext) => void
