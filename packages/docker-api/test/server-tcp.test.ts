/**
 * The Docker API over TCP with the cluster's mutual TLS: the real CLIs with `--tlsverify` and a
 * manager's certificate get through; no client certificate, or one from another CA, fails the TLS
 * handshake; a worker's certificate is refused (403) as for the control API; the server's
 * certificate is the cluster CA's, valid for the dialled address.
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, issueServingCertificate, nodeCertificatePaths, type ManagerCluster } from '@swarmkit-ts/core'
import { serveDockerApi, type DockerApiServer } from '../src/index.ts'
import { certificateHosts } from '../src/server-tcp.ts'
import { DOCKER_CLIS, DockerRig, FAST_RAFT, runDocker, until, type CliResult, type DockerCli } from './rig.ts'

/** PEM files of a client: the CA to verify the server with, and a certificate and key. */
interface ClientFiles {
  readonly ca: string
  readonly cert: string
  readonly key: string
}

let rig: DockerRig
let server: DockerApiServer
let other: ManagerCluster | undefined
let manager2: ClientFiles
let worker: ClientFiles
let foreign: ClientFiles
let foreignCa: string

async function writeClient(dir: string, ca: string, cert: string, key: string): Promise<ClientFiles> {
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
  await writeFile(files.ca, ca)
  await writeFile(files.cert, cert)
  await writeFile(files.key, key, { mode: 0o600 })
  return files
}

beforeAll(async () => {
  rig = await DockerRig.start({ managers: 2, workers: 1 })
  server = await serveDockerApi(rig.manager, { tcp: { host: '127.0.0.1', port: 0 } })
  const m2 = rig.managers[1]?.tls.current
  if (m2 === undefined) throw new Error('no second manager')
  manager2 = await writeClient(await rig.tempDir('dkt-'), m2.trustBundlePem, m2.certChainPem, m2.keyPem)
  const w = rig.workers[0]
  if (w === undefined) throw new Error('no worker')
  const wp = nodeCertificatePaths(w.stateDir)
  worker = await writeClient(await rig.tempDir('dkt-'), await readFile(wp.rootCa, 'utf8'), await readFile(wp.cert, 'utf8'), await readFile(wp.key, 'utf8'))
  // A manager of another cluster: a certificate of another CA, with the same profile.
  other = await Cluster.init({ stateDir: await rig.dir(), listenAddr: '127.0.0.1:0', runtime: 'fake', raft: FAST_RAFT })
  const o = other.tls.current
  foreign = await writeClient(await rig.tempDir('dkt-'), m2.trustBundlePem, o.certChainPem, o.keyPem)
  foreignCa = join(await rig.tempDir('dkt-'), 'ca.pem')
  await writeFile(foreignCa, o.trustBundlePem)
}, 120_000)

afterAll(async () => {
  await server?.close()
  await other?.close()
  await rig?.close()
})

function tlsDocker(cli: DockerCli, files: Partial<ClientFiles>, args: readonly string[]): Promise<CliResult> {
  const flags = ['--tlsverify', ...(files.ca === undefined ? [] : ['--tlscacert', files.ca]), ...(files.cert === undefined ? [] : ['--tlscert', files.cert, '--tlskey', files.key ?? ''])]
  return runDocker(cli, `tcp://${server.tcpAddress ?? ''}`, rig.configDir, [...flags, ...args])
}

describe('serveDockerApi over TCP', () => {
  it('reports its bound address and a tcp:// DOCKER_HOST, and no socket', () => {
    expect(server.tcpAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/)
    expect(server.dockerHost).toBe(`tcp://${server.tcpAddress ?? ''}`)
    expect(server.socketPath).toBeUndefined()
  })

  it('answers a manager certificate, and the certificate it serves is the cluster CA’s for the address dialled with the manager’s identity', async () => {
    const [host = '', port = ''] = (server.tcpAddress ?? '').split(':')
    const ca = await readFile(manager2.ca, 'utf8')
    const { status, body, peer } = await new Promise<{ status: number; body: string; peer: { subject: string; subjectaltname: string } }>((resolve, reject) => {
      const req = request({ host, port: Number(port), path: '/_ping', ca, cert: readFileSync(manager2.cert, 'utf8'), key: readFileSync(manager2.key, 'utf8') }, (res) => {
        let text = ''
        const cert = (res.socket as TLSSocket).getPeerCertificate()
        res.setEncoding('utf8').on('data', (d: string) => (text += d))
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text, peer: { subject: `CN=${String(cert.subject.CN)} OU=${String(cert.subject.OU)} O=${String(cert.subject.O)}`, subjectaltname: cert.subjectaltname ?? '' } })
        })
      })
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(200)
    expect(body).toBe('OK')
    expect(peer.subject).toBe(`CN=${rig.manager.nodeId} OU=swarm-manager O=${rig.manager.clusterId}`)
    expect(peer.subjectaltname).toContain('IP Address:127.0.0.1')
  })

  it('is refused without a client certificate: the handshake fails and no request is answered', async () => {
    const [host = '', port = ''] = (server.tcpAddress ?? '').split(':')
    const ca = await readFile(manager2.ca, 'utf8')
    const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const req = request({ host, port: Number(port), path: '/_ping', ca }, (res) => reject(new Error(`answered ${String(res.statusCode)}`)))
      req.on('error', resolve)
      req.end()
    })
    expect(err.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')
  })

  it('is refused with a certificate of another CA: the handshake fails and no request is answered', async () => {
    const [host = '', port = ''] = (server.tcpAddress ?? '').split(':')
    const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const req = request({ host, port: Number(port), path: '/_ping', ca: readFileSync(foreign.ca, 'utf8'), cert: readFileSync(foreign.cert, 'utf8'), key: readFileSync(foreign.key, 'utf8') }, (res) =>
        reject(new Error(`answered ${String(res.statusCode)}`)),
      )
      req.on('error', resolve)
      req.end()
    })
    // Depending on timing: the connection reset, or the alert (never an HTTP answer).
    expect(['ECONNRESET', 'EPIPE', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA']).toContain(err.code)
  })

  it('serves a newly issued certificate on new connections after the node’s certificate is renewed', async () => {
    const serial = async (): Promise<string> => {
      const [host = '', port = ''] = (server.tcpAddress ?? '').split(':')
      return new Promise<string>((resolve, reject) => {
        const req = request({ host, port: Number(port), path: '/_ping', agent: false, ca: readFileSync(manager2.ca, 'utf8'), cert: readFileSync(manager2.cert, 'utf8'), key: readFileSync(manager2.key, 'utf8') }, (res) => {
          const s = (res.socket as TLSSocket).getPeerCertificate().serialNumber.toLowerCase()
          res.resume().on('end', () => resolve(s))
        })
        req.on('error', reject)
        req.end()
      })
    }
    const before = await serial()
    // A renewal: a new certificate of the cluster's CA for the same identity and key.
    const renewed = await issueServingCertificate({ store: rig.manager.manager.store, tls: rig.manager.tls, hosts: [] })
    rig.manager.tls.update(renewed)
    await until(async () => (await serial()) !== before, 'a re-issued serving certificate')
    const after = await serial()
    expect(after).not.toBe(before)
    expect(after).not.toBe(new X509Certificate(renewed.certChainPem).serialNumber.toLowerCase())
  })

  it('makes its certificate valid for the bound address and the hosts given, or for loopback, localhost and this machine when bound to a wildcard', () => {
    expect(certificateHosts({ host: '127.0.0.1', port: 0, hosts: ['docker.example.com', '10.1.2.3'] })).toEqual(['127.0.0.1', 'docker.example.com', '10.1.2.3'])
    const wildcard = certificateHosts({ host: '0.0.0.0', port: 0 })
    expect(wildcard).toEqual(expect.arrayContaining(['localhost', '127.0.0.1']))
    expect(wildcard).not.toContain('0.0.0.0')
  })

  it('refuses a serve without a socket or an address, and bad tcp options, naming the field', async () => {
    await expect(serveDockerApi(rig.manager, {})).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'socket' })
    await expect(serveDockerApi(rig.manager, { tcp: { host: '127.0.0.1', port: 70000 } })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'tcp.port' })
    await expect(serveDockerApi(rig.manager, { tcp: { host: '127.0.0.1', port: 0, hosts: ['docker.example.com', 'not a name'] } })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'tcp.hosts[1]' })
  })
})

describe.each(DOCKER_CLIS)('docker $version over TCP with the cluster’s mutual TLS', (cli) => {
  it('gets through with --tlsverify and a manager’s certificate', async () => {
    const r = await tlsDocker(cli, manager2, ['version', '--format', '{{.Server.APIVersion}}'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('1.41')
  })

  it('fails the TLS handshake without a client certificate', async () => {
    const r = await tlsDocker(cli, { ca: manager2.ca }, ['version', '--format', '{{.Server.APIVersion}}'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/remote error: tls: certificate required/)
  })

  it('fails the TLS handshake with a certificate of another CA', async () => {
    const r = await tlsDocker(cli, foreign, ['version', '--format', '{{.Server.APIVersion}}'])
    expect(r.code).toBe(1)
    // The server ends the handshake without an HTTP answer: the CLI reports a connection error
    // (the end, a reset or the alert, depending on timing), never a daemon's response.
    expect(r.stderr).toMatch(/^error during connect: Get "https:\/\/127\.0\.0\.1:\d+\/v1\.\d+\/version": /)
    expect(r.stderr).not.toContain('Error response from daemon')
    expect(r.stdout.trim()).toBe('')
  })

  it('refuses a worker’s certificate with 403, as the control API does', async () => {
    const r = await tlsDocker(cli, worker, ['version', '--format', '{{.Server.APIVersion}}'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('permission denied: role worker may not call this method (allowed: manager)')
  })

  it('does not trust the server with another cluster’s CA', async () => {
    const r = await tlsDocker(cli, { ...manager2, ca: foreignCa }, ['version', '--format', '{{.Server.APIVersion}}'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/x509: certificate signed by unknown authority/)
  })
})
