/**
 * Published ports of the runtimes whose containers share the host's network namespace (Docker
 * and containerd here): a free host port per mapping that does not fix one.
 * @internal
 */
import { createServer } from 'node:net'
import type { PortMapping, PublishedPort } from '../runtime.ts'

/** Asks the kernel for a free port on the host (TCP, all interfaces). */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Host ports for a runtime whose containers share the host's network namespace: a fixed
 * `published` port is kept, 0 or absent gets a free one. The workload listens on `published`.
 */
export async function allocateHostPorts(ports: readonly PortMapping[] | undefined): Promise<PublishedPort[]> {
  const out: PublishedPort[] = []
  for (const p of ports ?? []) {
    const published = p.published !== undefined && p.published !== 0 ? p.published : await freePort()
    out.push({ target: p.target, published, protocol: p.protocol ?? 'tcp' })
  }
  return out
}
