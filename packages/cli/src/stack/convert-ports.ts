/**
 * Published ports in compose's short syntax (`[ip:][published:]target[/protocol]`, ranges such as
 * `9000-9001:8000-8001/udp`) and long syntax (`{ target, published, protocol, mode }`).
 *
 * @module
 */
import type { PortConfig } from '@swarmkit-ts/api'
import { asOneOf, asSeq, asString, asText, checkKeys, get } from './read.ts'
import { child, fail, item, type LMap, type LNode } from './tree.ts'

/** Ports in short (`[ip:][published:]target[/protocol]`, ranges too) and long syntax. */
export function portsOf(node: LNode, path: string): PortConfig[] {
  const out: PortConfig[] = []
  asSeq(node, path).items.forEach((x, i) => {
    const p = item(path, i)
    if (x.kind === 'map') out.push(longPort(x, p))
    else out.push(...shortPort(asText(x, p), x, p))
  })
  return out
}

function portNumber(s: string, at: LNode, path: string): number {
  const n = /^\d+$/.test(s) ? Number(s) : Number.NaN
  if (!(n >= 1 && n <= 65535)) fail(at, path, `invalid port ${JSON.stringify(s)}: must be 1–65535`)
  return n
}

function range(s: string, at: LNode, path: string): number[] {
  const [lo, hi] = s.split('-')
  const a = portNumber(lo ?? '', at, path)
  const b = hi === undefined ? a : portNumber(hi, at, path)
  if (b < a) fail(at, path, `invalid port range ${s}`)
  return Array.from({ length: b - a + 1 }, (_, k) => a + k)
}

function shortPort(text: string, at: LNode, path: string): PortConfig[] {
  const [spec, proto = 'tcp', extra] = text.split('/')
  if (extra !== undefined || !['tcp', 'udp', 'sctp'].includes(proto)) fail(at, path, `invalid protocol in port ${JSON.stringify(text)}`)
  const protocol = proto as PortConfig['protocol'] & string
  const parts = (spec ?? '').split(':')
  if (parts.length > 3) fail(at, path, `invalid port ${JSON.stringify(text)}`)
  const targets = range(parts[parts.length - 1] ?? '', at, path)
  const publishedText = parts.length >= 2 ? (parts[parts.length - 2] ?? '') : ''
  const published = publishedText === '' ? undefined : range(publishedText, at, path)
  if (published !== undefined && published.length !== targets.length) fail(at, path, `port ranges of different sizes in ${JSON.stringify(text)}`)
  return targets.map((targetPort, k) => ({ protocol, targetPort, publishedPort: published?.[k] ?? 0, publishMode: 'ingress' }))
}

function longPort(m: LMap, path: string): PortConfig {
  checkKeys(m, path, ['target', 'published', 'protocol', 'mode', 'name'])
  const target = get(m, 'target')
  if (target === undefined) fail(m, path, 'target is required')
  const out: PortConfig = { protocol: 'tcp', targetPort: portNumber(asText(target, child(path, 'target')), target, child(path, 'target')), publishedPort: 0, publishMode: 'ingress' }
  const published = get(m, 'published')
  if (published !== undefined) out.publishedPort = portNumber(asText(published, child(path, 'published')), published, child(path, 'published'))
  const protocol = get(m, 'protocol')
  if (protocol !== undefined) out.protocol = asOneOf(protocol, child(path, 'protocol'), ['tcp', 'udp', 'sctp'])
  const mode = get(m, 'mode')
  if (mode !== undefined) out.publishMode = asOneOf(mode, child(path, 'mode'), ['ingress', 'host'])
  const name = get(m, 'name')
  if (name !== undefined) out.name = asString(name, child(path, 'name'))
  return out
}
