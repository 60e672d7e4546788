/**
 * Docker Engine API routes: `/swarm` — inspect (with the join tokens), update (the spec, and the
 * rotation of join tokens and the unlock key), the unlock key. Init, join, leave and unlock are
 * node lifecycle, done with `swarmkit node start`: refused with Docker's message or a pointer to it.
 *
 * @module
 */
import { FailedPreconditionError, UnavailableError } from '@swarmkit-ts/api'
import type { DockerApiManager, DockerApp, RouteContext } from '../context.ts'
import { DockerApiError, notSupported } from '../errors.ts'
import { versionParam } from '../translate/meta.ts'
import { swarmSpecFromDocker, swarmToDocker } from '../translate/swarm.ts'
import { queryFlag } from '../translate/swarm-json.ts'

/** Docker's answer to `swarm init` / `swarm join` on a node already in a swarm (503). */
const ALREADY_IN_SWARM = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.'

type Query = Readonly<Record<string, string | undefined>>

/** How long an update waits for the leader to make (or drop) the unlock key. */
const UNLOCK_KEY_WAIT_MS = 30_000

/**
 * Waits until the unlock key exists exactly when `autolock` is on. The leader makes (or drops)
 * the key in a write of its own right after the update (SwarmKit does it in the update), and
 * `docker swarm update --autolock=true` reads the key at once to print it.
 */
async function unlockKeyFollows(m: DockerApiManager, autolock: boolean, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + UNLOCK_KEY_WAIT_MS
  while (((await m.unlockKey()) !== undefined) !== autolock) {
    if (Date.now() > deadline || signal.aborted) throw new UnavailableError(`the leader has not ${autolock ? 'made' : 'dropped'} the unlock key yet: read it with docker swarm unlock-key`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Registers the swarm routes. */
export function swarmRoutes(app: DockerApp, ctx: RouteContext): void {
  const m = ctx.manager

  app.get('/swarm', async () => {
    const [cluster, tokens] = await Promise.all([m.getCluster(), m.joinTokens()])
    return swarmToDocker(cluster, tokens)
  })

  app.post('/swarm/update', async (req, reply) => {
    const q = req.query as Query
    const version = versionParam(q['version'])
    const rotateWorker = queryFlag(q['rotateWorkerToken'], 'rotateWorkerToken')
    const rotateManager = queryFlag(q['rotateManagerToken'], 'rotateManagerToken')
    const rotateUnlock = queryFlag(q['rotateManagerUnlockKey'], 'rotateManagerUnlockKey')
    const cluster = await m.getCluster()
    const spec = swarmSpecFromDocker(req.body, cluster.spec)
    // Checked before any write, so a refused rotation changes nothing.
    if (rotateUnlock && spec.encryptionConfig?.autoLockManagers !== true) {
      throw new FailedPreconditionError('cannot rotate the unlock key: autolock is off (docker swarm update --autolock=true)', { reason: 'autolock-off' })
    }
    const autolock = spec.encryptionConfig?.autoLockManagers === true
    const wasAutolock = cluster.spec.encryptionConfig?.autoLockManagers === true
    await m.updateCluster(spec, { version })
    if (autolock !== wasAutolock) await unlockKeyFollows(m, autolock, ctx.signal)
    if (rotateWorker) await m.rotateJoinToken('worker')
    if (rotateManager) await m.rotateJoinToken('manager')
    if (rotateUnlock) await m.rotateUnlockKey()
    void reply.code(200).send()
  })

  app.get('/swarm/unlockkey', async () => ({ UnlockKey: (await m.unlockKey()) ?? '' }))

  app.post('/swarm/init', () => {
    throw new DockerApiError(503, ALREADY_IN_SWARM)
  })
  app.post('/swarm/join', () => {
    throw new DockerApiError(503, ALREADY_IN_SWARM)
  })
  app.post('/swarm/leave', () => {
    throw notSupported('docker swarm leave', 'this API is served by a running manager; stop its `swarmkit node start` process, then remove the node with `docker node rm` from another manager')
  })
  app.post('/swarm/unlock', () => {
    throw new DockerApiError(409, 'swarm is not locked: a locked manager is unlocked where it runs, with `swarmkit swarm unlock` or `swarmkit node start --unlock-key -`')
  })
}
