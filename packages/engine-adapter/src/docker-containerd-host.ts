/**
 * Host-side helpers shared by the Docker and containerd runtimes: secret/config files written to a
 * private host directory (bind-mounted read-only into the container), free port allocation, and
 * splitting output into lines.
 * @internal
 */
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { ContainerFile, PortMapping, PublishedPort } from './runtime.ts'

/** A host file ready to bind-mount at `target`. */
export interface HostFile {
  readonly source: string
  readonly target: string
}

/**
 * Writes `files` under `dir` (created 0700, one file per entry, numbered), each with its mode and
 * owner. Returns the bind-mount sources. The directory is removed with {@link removeHostFiles}.
 */
export async function writeHostFiles(dir: string, files: readonly ContainerFile[]): Promise<HostFile[]> {
  if (files.length === 0) return []
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o711)
  const out: HostFile[] = []
  for (const [i, f] of files.entries()) {
    const source = join(dir, String(i))
    await writeFile(source, typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : f.data, { mode: 0o600 })
    await chown(source, f.uid ?? 0, f.gid ?? 0)
    await chmod(source, f.mode ?? 0o444)
    out.push({ source, target: f.target })
  }
  return out
}

/** Removes a directory written by {@link writeHostFiles} (no error when absent). */
export async function removeHostFiles(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

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

/** Splits a byte stream into lines (UTF-8, `\n`-terminated, `\r\n` tolerated). */
export class LineSplitter {
  #pending: Buffer = Buffer.alloc(0)

  /** Feeds bytes; returns the complete lines they finish. */
  push(chunk: Buffer): string[] {
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    const lines: string[] = []
    let start = 0
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, start)) {
      const end = i > start && buf[i - 1] === 13 ? i - 1 : i
      lines.push(buf.toString('utf8', start, end))
      start = i + 1
    }
    this.#pending = Buffer.from(buf.subarray(start))
    return lines
  }

  /** The final unterminated line, if any (and clears it). */
  flush(): string[] {
    if (this.#pending.length === 0) return []
    const last = this.#pending.toString('utf8')
    this.#pending = Buffer.alloc(0)
    return [last]
  }
}

/** Environment entries as `KEY=value` strings, later entries overriding earlier keys. */
export function mergeEnv(base: readonly string[], extra: Readonly<Record<string, string>>): string[] {
  const map = new Map<string, string>()
  for (const kv of base) {
    const eq = kv.indexOf('=')
    map.set(eq === -1 ? kv : kv.slice(0, eq), eq === -1 ? '' : kv.slice(eq + 1))
  }
  for (const [k, v] of Object.entries(extra)) map.set(k, v)
  return [...map].map(([k, v]) => `${k}=${v}`)
}

/** Label keys a runtime sets for itself; hidden from `ContainerInfo.labels` and events. */
export const INTERNAL_LABEL_PREFIX = 'io.swarmkit-ts.runtime.'

/** The labels without the runtime's internal ones. */
export function publicLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(labels ?? {})) if (!k.startsWith(INTERNAL_LABEL_PREFIX)) out[k] = v
  return out
}
