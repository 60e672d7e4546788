/**
 * Mutual TLS for the etcd peer of the control-writes benchmark, so that both sides pay it: an
 * ECDSA P-256 CA and one certificate for 127.0.0.1 with server and client use (the key type our
 * managers' certificates have), made with the `openssl` command into `dir`.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { EtcdTls } from '../../raft/bench/etcd-peer.ts'

/** Whether an `openssl` command is on PATH. */
export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Writes a CA and a certificate for 127.0.0.1 (serverAuth and clientAuth) into `dir`. */
export function makeEtcdTls(dir: string): EtcdTls {
  const f = (name: string): string => join(dir, name)
  const run = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore', cwd: dir })
  run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'))
  run('req', '-x509', '-new', '-key', f('ca.key'), '-sha256', '-days', '2', '-subj', '/CN=bench-etcd-ca', '-out', f('ca.crt'))
  run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('node.key'))
  run('req', '-new', '-key', f('node.key'), '-subj', '/CN=127.0.0.1', '-out', f('node.csr'))
  writeFileSync(f('node.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n')
  run('x509', '-req', '-in', f('node.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-sha256', '-extfile', f('node.ext'), '-out', f('node.crt'))
  return { caFile: f('ca.crt'), certFile: f('node.crt'), keyFile: f('node.key') }
}
