/**
 * containerd images without a registry: import a root file system tarball as a one-layer OCI image
 * (Content.Write of layer, config and manifest, Images.Create, then unpack through Snapshots.Prepare,
 * Diff.Apply and Snapshots.Commit), and resolve an image name to its config and top snapshot.
 * @internal
 */
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { FailedPreconditionError } from '@swarmkit-ts/api'
import type { ContainerdGrpc, Msg } from './containerd-grpc.ts'
import { GRPC_CODE, isGrpcCode } from './containerd-grpc.ts'
import { ImageNotFoundError } from '../errors.ts'

const SVC = {
  content: 'containerd.services.content.v1.Content',
  images: 'containerd.services.images.v1.Images',
  snapshots: 'containerd.services.snapshots.v1.Snapshots',
  diff: 'containerd.services.diff.v1.Diff',
  leases: 'containerd.services.leases.v1.Leases',
} as const

const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const

const CHUNK = 1024 * 1024

/** The process defaults an image carries (OCI image config `config`). */
export interface ImageProcessConfig {
  readonly entrypoint: readonly string[]
  readonly cmd: readonly string[]
  readonly env: readonly string[]
  readonly workingDir: string
}

/** What a container needs from its image. */
export interface ResolvedImage {
  readonly name: string
  readonly config: ImageProcessConfig
  /** Snapshot name (ChainID) of the image's top layer in the snapshotter. */
  readonly chainId: string
}

interface Descriptor { mediaType: string; digest: string; size: number }

function sha256(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

async function fileDigest(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    size += chunk.length
  }
  return { digest: `sha256:${hash.digest('hex')}`, size }
}

function ociArch(): string {
  switch (process.arch) {
    case 'x64': return 'amd64'
    case 'ia32': return '386'
    default: return process.arch
  }
}

/** OCI ChainID of a list of layer DiffIDs. */
export function chainIdOf(diffIds: readonly string[]): string {
  let chain = ''
  for (const id of diffIds) chain = chain === '' ? id : sha256(`${chain} ${id}`)
  return chain
}

async function contentExists(c: ContainerdGrpc, digest: string): Promise<boolean> {
  try {
    await c.unary(SVC.content, 'Info', { digest })
    return true
  } catch (err) {
    if (isGrpcCode(err, GRPC_CODE.NOT_FOUND)) return false
    throw err
  }
}

/** Writes one blob to the content store (no-op when present). `chunks` yields the bytes in order. */
async function writeBlob(
  c: ContainerdGrpc, lease: string, desc: { digest: string; size: number },
  chunks: () => AsyncIterable<Buffer>, labels: Record<string, string>,
): Promise<void> {
  if (await contentExists(c, desc.digest)) return
  const ref = `swarmkit-ts-${desc.digest}`
  const w = c.duplex(SVC.content, 'Write', { lease })
  try {
    await w.write({ action: 'STAT', ref })
    let offset = 0
    for await (const data of chunks()) {
      // Offset is the absolute position: a write at 0 after data would truncate the blob.
      await w.write({ action: 'WRITE', ref, offset, data, total: desc.size })
      offset += data.length
    }
    await w.write({ action: 'COMMIT', ref, offset, total: desc.size, expected: desc.digest, labels })
    w.end()
  } catch (err) {
    w.cancel()
    if (isGrpcCode(err, GRPC_CODE.ALREADY_EXISTS)) return
    await c.unary(SVC.content, 'Abort', { ref }).catch(() => undefined)
    throw err
  }
}

async function* bufferChunks(buf: Buffer): AsyncIterable<Buffer> {
  for (let i = 0; i < buf.length; i += CHUNK) yield buf.subarray(i, i + CHUNK)
  await Promise.resolve()
}

async function* fileChunks(path: string): AsyncIterable<Buffer> {
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) yield chunk
}

/** Runs `fn` under a fresh containerd lease, deleted afterwards. */
export async function withLease<T>(c: ContainerdGrpc, fn: (lease: string) => Promise<T>): Promise<T> {
  const id = `swarmkit-ts-${randomUUID()}`
  await c.unary(SVC.leases, 'Create', { id, labels: { 'containerd.io/gc.expire': new Date(Date.now() + 3_600_000).toISOString() } })
  try {
    return await fn(id)
  } finally {
    await c.unary(SVC.leases, 'Delete', { id }).catch(() => undefined)
  }
}

/** Options of {@link importRootfsImage}. */
export interface ImportRootfsOptions {
  /** Image name to create, e.g. `swarmkit-test/busybox:latest`. */
  readonly name: string
  /** Path of an uncompressed tar of the root file system (it becomes the single layer). */
  readonly tarPath: string
  readonly snapshotter: string
  readonly config?: Partial<ImageProcessConfig>
}

/** Imports a root file system tarball as a one-layer OCI image and unpacks it. Idempotent. */
export async function importRootfsImage(c: ContainerdGrpc, opts: ImportRootfsOptions): Promise<ResolvedImage> {
  await stat(opts.tarPath)
  const layer = await fileDigest(opts.tarPath)
  const chainId = chainIdOf([layer.digest])
  const process: ImageProcessConfig = {
    entrypoint: opts.config?.entrypoint ?? [],
    cmd: opts.config?.cmd ?? ['/bin/sh'],
    env: opts.config?.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    workingDir: opts.config?.workingDir ?? '/',
  }
  const configJson = Buffer.from(JSON.stringify({
    architecture: ociArch(),
    os: 'linux',
    config: {
      Env: process.env, Cmd: process.cmd, WorkingDir: process.workingDir,
      ...(process.entrypoint.length > 0 ? { Entrypoint: process.entrypoint } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  }))
  const config: Descriptor = { mediaType: MEDIA.config, digest: sha256(configJson), size: configJson.length }
  const layerDesc: Descriptor = { mediaType: MEDIA.layer, digest: layer.digest, size: layer.size }
  const manifestJson = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, config, layers: [layerDesc] }))
  const manifest: Descriptor = { mediaType: MEDIA.manifest, digest: sha256(manifestJson), size: manifestJson.length }

  await withLease(c, async (lease) => {
    await writeBlob(c, lease, layerDesc, () => fileChunks(opts.tarPath), {})
    await writeBlob(c, lease, config, () => bufferChunks(configJson), {
      [`containerd.io/gc.ref.snapshot.${opts.snapshotter}`]: chainId,
    })
    await writeBlob(c, lease, manifest, () => bufferChunks(manifestJson), {
      'containerd.io/gc.ref.content.config': config.digest,
      'containerd.io/gc.ref.content.l.0': layerDesc.digest,
    })
    await unpackLayers(c, lease, opts.snapshotter, [layerDesc], [layer.digest])
    await putImage(c, lease, opts.name, manifest)
  })
  return { name: opts.name, config: process, chainId }
}

async function putImage(c: ContainerdGrpc, lease: string, name: string, target: Descriptor): Promise<void> {
  try {
    const got = await c.unary(SVC.images, 'Get', { name })
    const image = got['image'] as { target?: { digest?: string } } | undefined
    if (image?.target?.digest === target.digest) return
    await c.unary(SVC.images, 'Delete', { name, sync: true }, { lease })
  } catch (err) {
    if (!isGrpcCode(err, GRPC_CODE.NOT_FOUND)) throw err
  }
  await c.unary(SVC.images, 'Create', { image: { name, target } }, { lease })
}

async function snapshotExists(c: ContainerdGrpc, snapshotter: string, key: string): Promise<boolean> {
  try {
    await c.unary(SVC.snapshots, 'Stat', { snapshotter, key })
    return true
  } catch (err) {
    if (isGrpcCode(err, GRPC_CODE.NOT_FOUND)) return false
    throw err
  }
}

/** Applies each layer on its parent and commits it under its ChainID (skipping those present). */
async function unpackLayers(
  c: ContainerdGrpc, lease: string, snapshotter: string, layers: readonly Descriptor[], diffIds: readonly string[],
): Promise<void> {
  let parent = ''
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]
    if (layer === undefined) break
    const chainId = chainIdOf(diffIds.slice(0, i + 1))
    if (!(await snapshotExists(c, snapshotter, chainId))) {
      const key = `extract-${randomUUID()}-${chainId}`
      const prepared = await c.unary(SVC.snapshots, 'Prepare', { snapshotter, key, parent }, { lease })
      try {
        await c.unary(SVC.diff, 'Apply', { diff: layer, mounts: prepared['mounts'] }, { lease })
        await c.unary(SVC.snapshots, 'Commit', { snapshotter, name: chainId, key }, { lease })
      } catch (err) {
        await c.unary(SVC.snapshots, 'Remove', { snapshotter, key }).catch(() => undefined)
        if (!isGrpcCode(err, GRPC_CODE.ALREADY_EXISTS)) throw err
      }
    }
    parent = chainId
  }
}

async function readBlob(c: ContainerdGrpc, digest: string): Promise<Buffer> {
  const stream = c.serverStream(SVC.content, 'Read', { digest })
  const parts: Buffer[] = []
  for await (const msg of stream.messages) parts.push(msg['data'] as Buffer)
  return Buffer.concat(parts)
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

/**
 * Resolves an image name to its process config and top snapshot, unpacking its layers if the
 * snapshots are missing. Throws the gRPC NOT_FOUND error when the image is unknown.
 */
export async function resolveImage(c: ContainerdGrpc, name: string, snapshotter: string): Promise<ResolvedImage> {
  const got = await c.unary(SVC.images, 'Get', { name })
  const target = (got['image'] as Msg | undefined)?.['target'] as Descriptor | undefined
  if (target === undefined) throw new ImageNotFoundError(name, { message: `image ${name} has no target` })
  const manifest = JSON.parse((await readBlob(c, target.digest)).toString('utf8')) as { config?: Descriptor; layers?: Descriptor[] }
  if (manifest.config === undefined) throw new FailedPreconditionError(`image ${name}: unsupported manifest ${target.mediaType} (an index?)`, { reason: 'unsupported-manifest' })
  const cfg = JSON.parse((await readBlob(c, manifest.config.digest)).toString('utf8')) as {
    config?: { Entrypoint?: unknown; Cmd?: unknown; Env?: unknown; WorkingDir?: unknown }
    rootfs?: { diff_ids?: unknown }
  }
  const diffIds = strings(cfg.rootfs?.diff_ids)
  const chainId = chainIdOf(diffIds)
  if (!(await snapshotExists(c, snapshotter, chainId))) {
    const layers = manifest.layers ?? []
    await withLease(c, (lease) => unpackLayers(c, lease, snapshotter, layers, diffIds))
  }
  const wd = cfg.config?.WorkingDir
  return {
    name,
    chainId,
    config: {
      entrypoint: strings(cfg.config?.Entrypoint),
      cmd: strings(cfg.config?.Cmd),
      env: strings(cfg.config?.Env),
      workingDir: typeof wd === 'string' && wd !== '' ? wd : '/',
    },
  }
}

/** Media types of layers {@link resolveImage} can unpack (Diff.Apply decompresses gzip itself). */
export const SUPPORTED_LAYER_MEDIA_TYPES: readonly string[] = [MEDIA.layer, MEDIA.layerGzip, MEDIA.dockerLayer, MEDIA.dockerLayerGzip]
