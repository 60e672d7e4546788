/**
 * Docker Engine API routes: images, as Swarm classic aggregated them across nodes. Nodes resolve
 * (and pull) images themselves when a task starts, so `docker pull` answers at once and
 * `docker images` lists, per node, the images of the tasks assigned to it (translate/image.ts).
 * Building, pushing, tagging and removing images are refused (501) with what to use instead.
 *
 * @module
 */
import { TaskState } from '@swarmkit-ts/api'
import { sameImage } from '../classic/containers.ts'
import type { DockerApp, RouteContext } from '../context.ts'
import { DockerApiError, notSupported } from '../errors.ts'
import { parseFilters } from '../filters.ts'
import { startStream } from '../streams.ts'
import { imageInspect, imageSummary, nodeImages, taggedReference, type NodeImage } from '../translate/image.ts'

type Query = Readonly<Record<string, string | undefined>>

const BUILD = 'build the image elsewhere (docker buildx build --push, or docker build against a local engine), push it to a registry the nodes reach, then run it here'

/** Registers the images routes. */
export function imagesRoutes(app: DockerApp, ctx: RouteContext): void {
  const { manager } = ctx

  const images = async (): Promise<NodeImage[]> => {
    const [tasks, nodes] = await Promise.all([manager.tasks.list(), manager.nodes.list()])
    return nodeImages(
      tasks.filter((t) => t.desiredState <= TaskState.SHUTDOWN),
      nodes,
    )
  }

  app.get('/images/json', async (req, reply) => {
    const q = req.query as Query
    const filters = parseFilters(q['filters'], ['reference', 'dangling', 'label', 'node'])
    const dangling = filters.get('dangling')?.[0]
    if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) throw new DockerApiError(400, `invalid filter 'dangling=${dangling}'`)
    const list = (await images()).filter((i) => {
      if (dangling === 'true' || dangling === '1') return false
      if (filters.has('label')) return false // images here carry no labels
      const refs = filters.get('reference')
      if (refs !== undefined && !refs.some((r) => sameImage(i.reference, r) || i.reference.split(':')[0] === r)) return false
      const onNodes = filters.get('node')
      return onNodes === undefined || onNodes.some((n) => n === i.nodeId || n === i.node?.description?.hostname)
    })
    return reply.send(list.map(imageSummary))
  })

  app.post('/images/create', async (req, reply) => {
    const q = req.query as Query
    const from = q['fromImage'] ?? ''
    if (from === '') throw notSupported('importing an image (docker import)', BUILD)
    const tag = q['tag'] ?? ''
    const reference = tag === '' ? taggedReference(from) : tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`
    const res = startStream(reply, 'application/json')
    res.write(`${JSON.stringify({ status: `Pulling ${reference} is left to the nodes: each pulls it when a task needs it` })}\n`)
    res.end(`${JSON.stringify({ status: `Status: Image is resolved on the nodes for ${reference}` })}\n`)
  })

  app.get('/images/*', async (req, reply) => {
    const path = (req.params as { '*': string })['*']
    if (!path.endsWith('/json')) throw notSupported(`GET /images/${path}`, 'image history and export stay on the nodes')
    const name = path.slice(0, -'/json'.length)
    const found = (await images()).filter((i) => sameImage(i.reference, name) || i.reference === name || i.reference.split(':')[0] === name || `${i.node?.description?.hostname ?? i.nodeId}/${i.reference}` === taggedReference(name))
    if (found.length === 0) throw new DockerApiError(404, `No such image: ${name}`)
    const reference = found[0]?.reference
    return reply.send(imageInspect(found.filter((f) => f.reference === reference)))
  })

  app.post('/build', () => Promise.reject(notSupported('build', BUILD)))
  app.post('/images/load', () => Promise.reject(notSupported('loading images (docker load)', 'push the image to a registry the nodes reach')))
  app.post('/images/prune', () => Promise.reject(notSupported('pruning images', 'each node keeps its own images; prune them on the node')))
  app.get('/images/search', () => Promise.reject(notSupported('searching a registry', 'search the registry directly')))
  app.post('/images/*', (req) => Promise.reject(notSupported(`POST /images/${(req.params as { '*': string })['*']} (tag, push)`, 'tag and push images from the engine that built them')))
  app.delete('/images/*', () => Promise.reject(notSupported('removing images (docker rmi)', 'each node keeps its own images; remove them on the node')))
}
