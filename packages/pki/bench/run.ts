/**
 * `pnpm bench` for @swarmkit-ts/pki: certificates issued per second and mTLS handshakes per
 * second, each next to a baseline measured in the same run (issuance through @peculiar/x509's
 * generic generator; gRPC calls over a plaintext channel). Prints a table and writes
 * bench-results/pki.json at the repository root.
 *
 * Rates are given per wall-clock second and per CPU second of this process (the latter is
 * steadier on a shared machine). BENCH_SECONDS scales every window (default 3 s).
 */
import 'reflect-metadata'
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { webcrypto } from 'node:crypto'
import { connect, createSecureContext, createServer, type TLSSocket } from 'node:tls'
import type { AddressInfo } from 'node:net'
import { credentials as grpcCredentials, ServerCredentials } from '@grpc/grpc-js'
import * as x509 from '@peculiar/x509'
import { createCsr, credentials, generateNodeKey, RootCA, type TlsMaterial } from '../src/index.ts'
import { callEcho, startEcho } from '../test/helpers/grpc-harness.ts'

const windowMs = Number(process.env.BENCH_SECONDS ?? 3) * 1000
const log = (s: string): void => void process.stderr.write(`${s}\n`)

interface Row {
  benchmark: string
  load: string
  perSecond: number
  perCpuSecond: number
  ops: number
  note?: string | undefined
}
const rows: Row[] = []

/** Runs `op` with `concurrency` workers for the window; counts completions. */
async function measure(concurrency: number, op: (i: number) => unknown): Promise<{ perSecond: number; perCpuSecond: number; ops: number }> {
  for (let i = 0; i < 20; i++) await op(i) // warm-up
  let ops = 0
  let next = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + windowMs
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op(next++)
        ops++
      }
    }),
  )
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return { perSecond: ops / wall, perCpuSecond: ops / ((cpu.user + cpu.system) / 1e6), ops }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const load0 = loadavg()[0] ?? 0
  const ca = await RootCA.create()
  log('issuance: a pool of 256 distinct CSRs (ECDSA P-256)')
  const csrs = await Promise.all(Array.from({ length: 256 }, async () => createCsr(await generateNodeKey())))
  const csrAt = (i: number): string => csrs[i % csrs.length] ?? ''

  const ours = await measure(1, (i) => ca.issueSync(csrAt(i), { nodeId: `node${i}`, role: i % 2 === 0 ? 'worker' : 'manager', clusterId: 'cluster1' }))
  rows.push({ benchmark: 'RootCA.issue (CSR verify + DER build + sign)', load: '1 caller', ...ours })

  // Baseline: the same certificate profile through @peculiar/x509's generator, same run.
  const caCert = new x509.X509Certificate(ca.certPem)
  const caKey = await webcrypto.subtle.importKey('pkcs8', Buffer.from((ca.keyPem ?? '').split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const baseline = await measure(1, async (i) => {
    const csr = new x509.Pkcs10CertificateRequest(csrAt(i))
    if (!(await csr.verify(webcrypto))) throw new Error('csr')
    const cert = await x509.X509CertificateGenerator.create(
      {
        subject: [{ CN: [`node${i}`] }, { OU: ['swarm-worker'] }, { O: ['cluster1'] }],
        issuer: caCert.subjectName,
        publicKey: csr.publicKey,
        signingKey: caKey,
        signingAlgorithm: alg,
        notBefore: new Date(),
        notAfter: new Date(Date.now() + 90 * 86_400_000),
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'swarm-worker' }, { type: 'dns', value: `node${i}` }, { type: 'url', value: `spiffe://cluster1/swarm-worker/node${i}` }]),
        ],
      },
      webcrypto,
    )
    return cert.toString('pem')
  })
  rows.push({ benchmark: 'baseline: @peculiar/x509 generator, same profile', load: '1 caller', ...baseline })

  const e2e = await measure(1, async (i) => {
    const key = await generateNodeKey()
    return ca.issueSync(await createCsr(key), { nodeId: `node${i}`, role: 'worker', clusterId: 'cluster1' })
  })
  rows.push({ benchmark: 'node key + CSR + RootCA.issue (end to end)', load: '1 caller', ...e2e })

  log('mTLS: node:tls mutual handshakes with node certificates, loopback')
  const issue = async (nodeId: string, role: 'manager' | 'worker'): Promise<TlsMaterial> => {
    const key = await generateNodeKey()
    const c = await ca.issue(await createCsr(key), { nodeId, role, clusterId: 'cluster1' })
    return { keyPem: key.keyPem, certChainPem: c.chainPem, trustBundlePem: ca.certPem }
  }
  const serverMaterial = await issue('mgr1', 'manager')
  const clientMaterial = await issue('wrk1', 'worker')
  const raw = createServer({ key: serverMaterial.keyPem, cert: serverMaterial.certChainPem, ca: serverMaterial.trustBundlePem, requestCert: true, rejectUnauthorized: true }, (sock) => sock.end())
  raw.on('tlsClientError', () => undefined)
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
  const rawPort = (raw.address() as AddressInfo).port
  // One client context, as a long-lived node keeps (each handshake then pays only the handshake).
  const clientContext = createSecureContext({ key: clientMaterial.keyPem, cert: clientMaterial.certChainPem, ca: clientMaterial.trustBundlePem })
  try {
    for (const c of [1, 8]) {
      const r = await measure(c, () =>
        new Promise<void>((resolve, reject) => {
          const sock: TLSSocket = connect({ host: '127.0.0.1', port: rawPort, secureContext: clientContext, checkServerIdentity: () => undefined })
          sock.once('secureConnect', () => {
            sock.destroy()
            resolve()
          })
          sock.once('error', reject)
        }),
      )
      rows.push({ benchmark: 'mutual TLS handshake (node:tls, ECDSA P-256)', load: `${c} concurrent`, ...r, note: 'client and server in this process' })
    }
  } finally {
    await new Promise<void>((resolve) => raw.close(() => resolve()))
  }

  log('mTLS: a fresh gRPC channel (one TLS handshake) per unary call, loopback')
  const tlsServer = await startEcho(credentials.forServer(serverMaterial), { clusterId: 'cluster1' })
  const plainServer = await startEcho(ServerCredentials.createInsecure(), {})
  try {
    for (const c of [1, 8]) {
      const clientCreds = credentials.forClient(clientMaterial, { clusterId: 'cluster1' })
      const r = await measure(c, async () => {
        const res = await callEcho(tlsServer.port, clientCreds, 'WhoAmI')
        if (!res.ok) throw new Error(`mTLS call failed: ${res.details}`)
      })
      rows.push({ benchmark: 'gRPC: new mTLS channel + authorized call', load: `${c} concurrent`, ...r, note: 'server and client in this process' })
    }
    for (const c of [1, 8]) {
      const r = await measure(c, async () => {
        const res = await callEcho(plainServer.port, grpcCredentials.createInsecure(), 'WhoAmI')
        // The plaintext server has no TLS peer, so authorize refuses: the call still completes.
        if (res.ok) throw new Error('unexpected')
      })
      rows.push({ benchmark: 'baseline: new plaintext gRPC channel + call', load: `${c} concurrent`, ...r })
    }
  } finally {
    await tlsServer.close()
    await plainServer.close()
  }

  const pad = (s: string, n: number): string => s.padEnd(n)
  const num = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(9)
  process.stdout.write(`\n${pad('benchmark', 54)} ${pad('load', 14)} ${'per s'.padStart(9)} ${'per CPU s'.padStart(9)}\n`)
  for (const r of rows) process.stdout.write(`${pad(r.benchmark, 54)} ${pad(r.load, 14)} ${num(r.perSecond)} ${num(r.perCpuSecond)}\n`)
  const ratio = ours.perCpuSecond / baseline.perCpuSecond
  const verdict = (x: number): string => (x >= 500 ? 'met' : 'NOT met')
  process.stdout.write(
    `\nissuance vs @peculiar/x509 baseline: ×${ratio.toFixed(1)} per CPU second\n` +
      `target ≥ 500 certificates/s: ${verdict(ours.perCpuSecond)} per CPU second (${Math.round(ours.perCpuSecond)}), ` +
      `${verdict(ours.perSecond)} in wall time (${Math.round(ours.perSecond)}/s; 1-min load average ${load0.toFixed(1)} on ${availableParallelism()} CPUs at start)\n`,
  )

  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
  await mkdir(join(root, 'bench-results'), { recursive: true })
  const out = {
    package: '@swarmkit-ts/pki',
    startedAt,
    windowMs,
    machine: { cpus: availableParallelism(), loadavg1mAtStart: load0, node: process.version },
    targets: { certificatesPerSecond: 500 },
    rows,
    issuanceVsBaselinePerCpuSecond: ratio,
  }
  await writeFile(join(root, 'bench-results', 'pki.json'), JSON.stringify(out, undefined, 2) + '\n')
  log('wrote bench-results/pki.json')
}

await main()
