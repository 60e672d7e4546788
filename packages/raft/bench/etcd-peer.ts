/**
 * The peer we compare against: a 3-member etcd cluster (Debian's etcd-server, 3.4) started by
 * the benchmark on private loopback ports and data directories, driven through its gRPC API
 * (the `etcd3` client) with the same closed-loop load generator as our own cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { readFileSync } from 'node:fs'
import { Etcd3 } from 'etcd3'

/** A free loopback port (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

/** Whether an `etcd` binary is on PATH. */
export async function etcdAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('etcd', ['--version'], { stdio: 'ignore' })
    p.once('error', () => resolve(false))
    p.once('exit', (code) => resolve(code === 0))
  })
}

const agent = new Agent({ keepAlive: true, maxSockets: 512 })

function post(url: string, body: unknown, tls?: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<unknown> {
  const data = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const send = tls === undefined ? request : httpsRequest
    const req = send(url, { method: 'POST', ...(tls === undefined ? { agent } : tls), headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode !== 200) reject(new Error(`etcd ${res.statusCode ?? 0}: ${text}`))
        else resolve(JSON.parse(text) as unknown)
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}

export interface EtcdCluster {
  /** Client URL of the current leader. */
  leaderUrl: string
  put(key: string, value: Uint8Array): Promise<void>
  stop(): Promise<void>
}

/**
 * Mutual TLS for etcd's client and peer traffic: PEM files (one certificate for 127.0.0.1 with
 * server and client use, signed by `caFile`) that the members load, and the client presents.
 */
export interface EtcdTls {
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
}

/** Starts 3 etcd members with fsync on (etcd's default) and waits for a leader; with `tls`, every connection is mutual TLS. */
export async function startEtcdCluster(options: { tls?: EtcdTls } = {}): Promise<EtcdCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'skts-etcd-'))
  const members = await Promise.all(
    [1, 2, 3].map(async (i) => ({ name: `e${i}`, client: await freePort(), peer: await freePort() })),
  )
  const tls = options.tls
  const scheme = tls === undefined ? 'http' : 'https'
  const tlsFlags =
    tls === undefined
      ? []
      : [
          `--cert-file=${tls.certFile}`, `--key-file=${tls.keyFile}`, `--trusted-ca-file=${tls.caFile}`, '--client-cert-auth',
          `--peer-cert-file=${tls.certFile}`, `--peer-key-file=${tls.keyFile}`, `--peer-trusted-ca-file=${tls.caFile}`, '--peer-client-cert-auth',
        ]
  const initialCluster = members.map((m) => `${m.name}=${scheme}://127.0.0.1:${m.peer}`).join(',')
  const procs: ChildProcess[] = members.map((m) =>
    spawn(
      'etcd',
      [
        `--name=${m.name}`,
        `--data-dir=${join(dir, m.name)}`,
        `--listen-client-urls=${scheme}://127.0.0.1:${m.client}`,
        `--advertise-client-urls=${scheme}://127.0.0.1:${m.client}`,
        `--listen-peer-urls=${scheme}://127.0.0.1:${m.peer}`,
        `--initial-advertise-peer-urls=${scheme}://127.0.0.1:${m.peer}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        '--initial-cluster-token=swarmkit-ts-bench',
        '--log-level=error',
        ...tlsFlags,
      ],
      { stdio: 'ignore' },
    ),
  )
  const stop = async (): Promise<void> => {
    for (const p of procs) p.kill('SIGKILL')
    await Promise.all(procs.map((p) => (p.exitCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', r)))))
    await rm(dir, { recursive: true, force: true })
  }
  const pem = tls === undefined ? undefined : { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }
  try {
    const deadline = Date.now() + 30_000
    for (;;) {
      if (Date.now() > deadline) throw new Error('etcd cluster did not elect a leader within 30 s')
      const statuses = await Promise.all(
        members.map((m) =>
          post(`${scheme}://127.0.0.1:${m.client}/v3/maintenance/status`, {}, pem).then(
            (s) => ({ m, s: s as { leader?: string; header?: { member_id?: string } } }),
            () => undefined,
          ),
        ),
      )
      const leader = statuses.find((x) => x?.s.leader !== undefined && x.s.leader === x.s.header?.member_id)
      if (leader !== undefined) {
        const leaderUrl = `${scheme}://127.0.0.1:${leader.m.client}`
        // The gRPC client, pointed at the leader only (like our load, which goes to our leader).
        const client = new Etcd3({ hosts: [leaderUrl], ...(pem === undefined ? {} : { credentials: { rootCertificate: pem.ca, certChain: pem.cert, privateKey: pem.key }, grpcOptions: { 'grpc.ssl_target_name_override': 'localhost' } }) })
        return {
          leaderUrl,
          put: async (key, value) => {
            await client.put(key).value(Buffer.from(value.buffer, value.byteOffset, value.byteLength))
          },
          stop: async () => {
            client.close()
            await stop()
          },
        }
      }
      await new Promise((r) => setTimeout(r, 200))
    }
  } catch (err) {
    await stop()
    throw err
  }
}
