/**
 * PEM helpers.
 *
 * @internal
 */
import { InvalidArgumentError } from '@swarmkit-ts/api'

/** Wraps DER bytes in a PEM block with the given label. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g

/** Every PEM block of `text`, in order, with its label and DER bytes. */
export function pemBlocks(text: string): { label: string; der: Buffer }[] {
  const out: { label: string; der: Buffer }[] = []
  for (const m of text.matchAll(BLOCK)) out.push({ label: m[1] ?? '', der: Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64') })
  return out
}

/** The certificates of a PEM bundle, each as its own PEM string; throws naming `field` when there is none. */
export function splitCertificates(bundle: string, field: string): string[] {
  const certs = pemBlocks(bundle).filter((b) => b.label === 'CERTIFICATE')
  if (certs.length === 0) throw new InvalidArgumentError(field, 'contains no PEM certificate')
  return certs.map((b) => toPem('CERTIFICATE', b.der))
}
