/**
 * Docker Engine API routes: containers, as Swarm classic served them across a cluster. A
 * container is a service labelled `com.swarmkit-ts.classic.container` (replicated, 0 replicas
 * until started, then 1; restart policy "no" = condition none), scheduled like any task, so
 * `-e constraint:node==<name>` and `-e affinity:container==<name>` place it. See
 * translate/classic-create.ts (create), classic/lifecycle.ts (start, stop, wait), classic/output.ts
 * (logs, attach).
 *
 * @module
 */
import { AlreadyExistsError, InvalidArgumentError } from '@swarmkit-ts/api'
import type { Node, Service } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import type { LogStream } from '@swarmkit-ts/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { autoRemove, startContainer, stopContainer, waitContainer, type WaitCondition } from '../classic/lifecycle.ts'
import { classicServices, findContainer, isClassic, loadContainer, placementLookup, resolveService, sameImage, type ClassicContainer } from '../classic/containers.ts'
import { findTaskContainer, managedByService, taskContainerName, taskContainers, taskContainerState, taskSummary, type TaskContainer } from '../classic/task-containers.ts'
import { randomContainerName, validContainerName } from '../classic/names.ts'
import { attachOutput, writeLogs } from '../classic/output.ts'
import type { DockerApp, RouteContext } from '../context.ts'
import { DockerApiError, notSupported } from '../errors.ts'
import { matchLabels, matchOne, parseFilters } from '../filters.ts'
import { clientGone, startStream } from '../streams.ts'
import { containerInspect, containerSummary } from '../translate/classic-container.ts'
import { readClassicCreate } from '../translate/classic-create.ts'
import type { ClassicState } from '../translate/classic-state.ts'

type Query = Readonly<Record<string, string | undefined>>

/** A container as `GET /containers/json` filters it: a classic container or a swarm task. */
interface Listed {
  readonly id: string
  readonly name: string
  readonly labels: Readonly<Record<string, string>> | undefined
  readonly image: string
  readonly created: number
  readonly state: ClassicState
  readonly node: Frozen<Node> | undefined
  summary(): Record<string, unknown>
}
type IdParams = { readonly id: string }

/** Docker's boolean query values: `1`, `true`, `True` … */
function flag(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes)$/i.test(v)
}

function query(req: FastifyRequest): Query {
  return req.query as Query
}

const LIST_FILTERS = ['id', 'name', 'label', 'status', 'node', 'exited', 'ancestor']
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']

/** What each unsupported container endpoint tells the user to do instead. */
const REFUSED: readonly (readonly [method: 'GET' | 'POST' | 'PUT', path: string, what: string, why: string])[] = [
  ['POST', '/containers/:id/exec', 'exec', 'a task runs on a node the Docker API does not reach into; run a one-off container instead (docker run -d … then docker logs -f)'],
  ['GET', '/containers/:id/export', 'export', 'a task\'s filesystem stays on its node; build the content into the image instead'],
  ['GET', '/containers/:id/archive', 'copying files (docker cp)', 'a task\'s filesystem stays on its node; use a bind mount (-v /host/path:/path) or a config (docker config create)'],
  ['PUT', '/containers/:id/archive', 'copying files (docker cp)', 'a task\'s filesystem stays on its node; use a bind mount (-v /host/path:/path) or a config (docker config create)'],
  ['GET', '/containers/:id/top', 'top', 'processes run on the task\'s node; use docker inspect for its Pid and node'],
  ['GET', '/containers/:id/stats', 'stats', 'resource usage stays on the task\'s node'],
  ['GET', '/containers/:id/changes', 'diff', 'a task\'s filesystem stays on its node'],
  ['POST', '/containers/:id/pause', 'pause', 'a task can be stopped (docker stop) and started again (docker start)'],
  ['POST', '/containers/:id/unpause', 'unpause', 'a task can be stopped (docker stop) and started again (docker start)'],
  ['POST', '/containers/:id/rename', 'rename', 'a container is a service and a service keeps its name; create a new one'],
  ['POST', '/containers/:id/update', 'update', 'remove the container and run it again with the new settings (or use docker service update)'],
  ['POST', '/containers/:id/resize', 'resizing a TTY', 'containers here have no TTY'],
  ['POST', '/containers/prune', 'prune', 'remove stopped containers with docker rm'],
  ['POST', '/commit', 'commit', 'a task\'s filesystem stays on its node; build an image instead'],
]

/** Registers the containers routes. */
export function containersRoutes(app: DockerApp, ctx: RouteContext): void {
  const { manager } = ctx
  // Ends with the server; a failure only stops `--rm` removals (a manager closing under it).
  autoRemove(manager, ctx.signal).catch(() => undefined)

  app.post('/containers/create', async (req, reply) => {
    const q = query(req)
    const given = (q['name'] ?? '').replace(/^\//, '')
    if (given !== '' && !validContainerName(given)) {
      throw new InvalidArgumentError('name', `Invalid container name (${given}): a container is a service here, so its name is 1–63 of [a-zA-Z0-9-_], starting and ending with a letter or digit`)
    }
    const { spec, interactive } = readClassicCreate(req.body, given, await placementLookup(manager))
    if (interactive === 'tty') throw notSupported('a TTY (docker run -t)', 'a task has no terminal; run it without -t and follow its output with docker logs -f')
    if (interactive === 'stdin') throw notSupported('attaching stdin (docker run -i)', 'a task has no input stream; run it without -i')
    for (let attempt = 0; ; attempt++) {
      const name = given !== '' ? given : randomContainerName(attempt)
      try {
        const service = await manager.services.create({ ...spec, annotations: { ...spec.annotations, name } })
        return reply.code(201).send({ Id: service.id, Warnings: [] })
      } catch (err) {
        if (!(err instanceof Error && err.name === AlreadyExistsError.name)) throw err
        if (given === '' && attempt < 10) continue
        const holder = await manager.services.get(name).catch(() => undefined)
        const by = holder === undefined ? 'another object' : isClassic(holder) ? `container "${holder.id}"` : `service "${holder.id}" (a container is a service here)`
        throw new DockerApiError(409, `Conflict. The container name "/${name}" is already in use by ${by}. You have to remove (or rename) that container to be able to reuse that name.`)
      }
    }
  })

  app.get('/containers/json', async (req, reply) => {
    const q = query(req)
    const filters = parseFilters(q['filters'], LIST_FILTERS)
    for (const s of filters.get('status') ?? []) if (!STATUSES.includes(s)) throw new DockerApiError(400, `invalid filter 'status=${s}'`)
    const all = flag(q['all']) || filters.has('status') || filters.has('exited')
    const limit = q['limit'] === undefined || q['limit'] === '' ? -1 : Number(q['limit'])
    if (!Number.isInteger(limit)) throw new InvalidArgumentError('limit', `invalid limit ${JSON.stringify(q['limit'])}`)
    const [services, nodes] = await Promise.all([classicServices(manager), manager.nodes.list()])
    const now = Date.now()
    const classic: Listed[] = (await Promise.all(services.map((s) => loadContainer(manager, s, nodes)))).map(({ service, state, node }) => ({
      id: service.id,
      name: service.spec.annotations.name,
      labels: service.spec.task.container?.labels,
      image: service.spec.task.container?.image ?? '',
      created: service.meta.createdAt,
      state,
      node,
      summary: () => containerSummary(service, state, node, now),
    }))
    const tasks: Listed[] = (await taskContainers(manager, nodes)).map((c) => ({
      id: c.task.id,
      name: taskContainerName(c.task),
      labels: c.task.spec.container?.labels,
      image: c.task.spec.container?.image ?? '',
      created: c.task.meta.createdAt,
      state: taskContainerState(c.task),
      node: c.node,
      summary: () => taskSummary(c, now),
    }))
    const out = [...classic, ...tasks]
      .filter(({ id, name, labels, image, state, node }) => {
        if (!all && !(state.running || state.status === 'restarting')) return false
        return (
          matchOne(filters, 'id', id, true) &&
          (filters.get('name')?.some((n) => name.includes(n.replace(/^\//, ''))) ?? true) &&
          matchLabels(filters, labels) &&
          matchOne(filters, 'status', state.status) &&
          (filters.get('node')?.some((n) => node !== undefined && (node.id === n || node.description?.hostname === n)) ?? true) &&
          (filters.get('exited')?.some((c) => state.status === 'exited' && Number(c) === state.exitCode) ?? true) &&
          (filters.get('ancestor')?.some((i) => sameImage(image, i)) ?? true)
        )
      })
      .sort((a, b) => b.created - a.created)
      .map((c) => c.summary())
    return reply.send(limit > 0 ? out.slice(0, limit) : out)
  })

  /** A swarm task named by `ref` when no classic container is (`err`, a 404, otherwise). */
  const taskFor = async (ref: string, err: unknown): Promise<TaskContainer> => {
    if (!(err instanceof DockerApiError && err.status === 404)) throw err
    const task = await findTaskContainer(manager, ref)
    if (task === undefined) throw err
    return task
  }
  /** The classic container `ref`; a swarm task's container is refused (its service manages it). */
  const classicOnly = async (ref: string): Promise<ClassicContainer> => {
    try {
      return await findContainer(manager, ref)
    } catch (err) {
      throw managedByService(await taskFor(ref, err))
    }
  }
  const classicServiceOnly = async (ref: string): Promise<Frozen<Service>> => (await classicOnly(ref)).service

  app.get<{ Params: IdParams }>('/containers/:id/json', async (req, reply) => {
    const doc = await findContainer(manager, req.params.id).then(
      (c) => containerInspect(c.service, c.tasks, c.node),
      async (err: unknown) => {
        const t = await taskFor(req.params.id, err)
        // A task's container reads like a one-task classic container of the task's spec.
        const asService = { id: t.task.id, meta: t.task.meta, spec: { annotations: { name: taskContainerName(t.task) }, task: t.task.spec, mode: { replicated: { replicas: 1 } } } }
        return containerInspect(asService, [t.task], t.node)
      },
    )
    return reply.send(doc)
  })

  app.post<{ Params: IdParams }>('/containers/:id/start', async (req, reply) => {
    const c = await classicOnly(req.params.id)
    const started = await startContainer(manager, c.service, c.state)
    return reply.code(started ? 204 : 304).send()
  })

  /** Stops `ref`, guarded by its stop grace period plus a minute (a node that never reports the end). */
  const stop = async (ref: string): Promise<boolean> => {
    const c = await classicOnly(ref)
    const graceMs = c.service.spec.task.container?.stopGracePeriodMs ?? 10_000
    return stopContainer(manager, c.service, c.state, AbortSignal.any([ctx.signal, AbortSignal.timeout(graceMs + 60_000)]))
  }

  app.post<{ Params: IdParams }>('/containers/:id/stop', async (req, reply) => {
    const t = query(req)['t']
    if (t !== undefined && t !== '' && !/^-?\d+$/.test(t)) throw new InvalidArgumentError('t', `invalid stop timeout ${JSON.stringify(t)}`)
    const stopped = await stop(req.params.id)
    return reply.code(stopped ? 204 : 304).send()
  })

  app.post<{ Params: IdParams }>('/containers/:id/restart', async (req, reply) => {
    await stop(req.params.id)
    const c = await findContainer(manager, req.params.id)
    await startContainer(manager, c.service, c.state)
    return reply.code(204).send()
  })

  app.post<{ Params: IdParams }>('/containers/:id/kill', async (req, reply) => {
    const signal = (query(req)['signal'] ?? '').toUpperCase()
    if (!['', 'KILL', 'SIGKILL', '9'].includes(signal)) {
      throw notSupported(`sending signal ${signal} (docker kill -s)`, 'a task can only be stopped: its StopSignal, then SIGKILL after its StopTimeout (docker kill, docker stop)')
    }
    if (!(await stop(req.params.id))) {
      const c = await findContainer(manager, req.params.id)
      throw new DockerApiError(409, `Cannot kill container: ${req.params.id}: Container ${c.service.id} is not running`)
    }
    return reply.code(204).send()
  })

  app.delete<{ Params: IdParams }>('/containers/:id', async (req, reply) => {
    const c = await classicOnly(req.params.id)
    if ((c.state.running || c.state.status === 'restarting') && !flag(query(req)['force'])) {
      throw new DockerApiError(409, `You cannot remove a running container ${c.service.id}. Stop the container before attempting removal or force remove`)
    }
    await manager.services.remove(c.service.id)
    return reply.code(204).send()
  })

  app.post<{ Params: IdParams }>('/containers/:id/wait', async (req, reply) => {
    const condition = query(req)['condition'] ?? ''
    if (!['', 'not-running', 'next-exit', 'removed'].includes(condition)) throw new InvalidArgumentError('condition', `invalid condition: ${JSON.stringify(condition)}`)
    const service = await classicServiceOnly(req.params.id)
    const res = startStream(reply, 'application/json')
    const gone = clientGone(res, ctx.signal)
    try {
      const code = await waitContainer(manager, service.id, (condition === '' ? 'not-running' : condition) as WaitCondition, gone)
      res.end(`${JSON.stringify({ StatusCode: code, Error: null })}\n`)
    } catch (err) {
      res.end(`${JSON.stringify({ StatusCode: -1, Error: { Message: gone.aborted ? 'the wait was cancelled' : (err as Error).message } })}\n`)
    }
  })

  app.get<{ Params: IdParams }>('/containers/:id/logs', async (req, reply) => {
    const q = query(req)
    const target = await resolveService(manager, req.params.id).then(
      (service) => ({ serviceId: service.id, taskId: undefined }),
      async (err: unknown) => {
        const t = await taskFor(req.params.id, err)
        return { serviceId: t.task.serviceId, taskId: t.task.id }
      },
    )
    const streams: LogStream[] = [...(flag(q['stdout']) ? (['stdout'] as const) : []), ...(flag(q['stderr']) ? (['stderr'] as const) : [])]
    if (streams.length === 0) throw new DockerApiError(400, 'Bad parameters: you must choose at least one stream')
    const tail = q['tail'] === undefined || q['tail'] === '' || q['tail'] === 'all' ? undefined : Number(q['tail'])
    if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw new InvalidArgumentError('tail', `invalid tail ${JSON.stringify(q['tail'])}: a number of lines or all`)
    const sinceRaw = q['since'] ?? ''
    const since = sinceRaw === '' || sinceRaw === '0' ? undefined : Math.floor(Number(sinceRaw) * 1000)
    if (since !== undefined && !Number.isFinite(since)) throw new InvalidArgumentError('since', `invalid since ${JSON.stringify(sinceRaw)}: seconds since the epoch`)
    if ((q['until'] ?? '') !== '' && q['until'] !== '0') throw notSupported('logs until a time (docker logs --until)', 'use --since and --tail')
    const res = startStream(reply, 'application/vnd.docker.raw-stream')
    const signal = clientGone(res, ctx.signal)
    try {
      await writeLogs(manager, target.serviceId, res, {
        ...(target.taskId === undefined ? {} : { taskId: target.taskId }), follow: flag(q['follow']), timestamps: flag(q['timestamps']), streams, signal, ...(tail === undefined ? {} : { tail }), ...(since === undefined ? {} : { since }) })
    } catch (err) {
      if (!signal.aborted) res.destroy(err as Error)
    } finally {
      res.end()
    }
  })

  app.post<{ Params: IdParams }>('/containers/:id/attach', async (req, reply: FastifyReply) => {
    const q = query(req)
    const service = await classicServiceOnly(req.params.id)
    if (flag(q['stdin'])) throw notSupported('attaching stdin', 'a task has no input stream; attach without stdin (docker run without -i)')
    if (!flag(q['stream'])) throw notSupported('attaching without stream=1 (logs=1 only)', 'use docker logs')
    const streams: LogStream[] = [...(flag(q['stdout']) ? (['stdout'] as const) : []), ...(flag(q['stderr']) ? (['stderr'] as const) : [])]
    reply.hijack()
    await attachOutput(manager, service.id, req.raw.socket, streams, ctx.signal).catch(() => req.raw.socket.destroy())
  })

  for (const [method, path, what, why] of REFUSED) {
    app.route({ method, url: path, handler: () => Promise.reject(notSupported(what, why)) })
  }
}
