/**
 * Where the CLI finds a manager (`--host`), and the control client it opens there.
 *
 * Like Docker's `DOCKER_HOST`: the `--host` flag, else the `SWARMKIT_HOST` environment variable,
 * else the control socket of `--state-dir` (`<dir>/control.sock`), else `./control.sock` — the
 * socket a manager started with `swarmkit node start … --state-dir .` serves. A `tcp://host:port`
 * host needs a manager client certificate: `--tls-cert`, `--tls-key` and `--tls-ca` (PEM files),
 * or `--state-dir` of a manager of the cluster, whose certificate the CLI then presents (its key
 * read from `manager-keys.json`; `--unlock-key` when that manager is autolocked).
 *
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'
import { ControlClient, connectControlSocket, CONTROL_SOCKET_FILE, managerStatePaths, nodeCertificatePaths } from '@swarmkit-ts/core'
import { credentials, ManagerKeyStore, type TlsMaterial } from '@swarmkit-ts/pki'

/** The environment variable naming the default host. */
export const HOST_ENV = 'SWARMKIT_HOST'

/** A parsed `--host`. */
export type Host = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly address: string }

/** Connection flags: where, and with which certificate. */
export interface ConnectionOptions {
  /** `--host`. */
  readonly host?: string | undefined
  /** `--state-dir`: a manager's state directory, whose control socket is the default host. */
  readonly stateDir?: string | undefined
  /** `--tls-cert`: the client certificate (PEM, chain) for a tcp host. */
  readonly tlsCert?: string | undefined
  /** `--tls-key`: its private key (PEM). */
  readonly tlsKey?: string | undefined
  /** `--tls-ca`: the cluster's root CA (PEM). */
  readonly tlsCa?: string | undefined
  /** `--unlock-key`: opens the key file of an autolocked manager's `--state-dir`. */
  readonly unlockKey?: string | undefined
}

const TCP = /^tcp:\/\/((?:\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5}))\/?$/

/**
 * Parses a host: `unix://<path>` (`unix:///run/m1/control.sock`, `unix://./control.sock`) or
 * `tcp://host:port`.
 *
 * @throws InvalidArgumentError (`--host`) for anything else.
 */
export function parseHost(host: string): Host {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length)
    if (path === '') throw new InvalidArgumentError('--host', `unix:// needs a socket path, got ${JSON.stringify(host)}`)
    return { kind: 'unix', path }
  }
  const tcp = TCP.exec(host)
  if (tcp !== null && Number(tcp[2]) <= 65535) return { kind: 'tcp', address: tcp[1] ?? '' }
  throw new InvalidArgumentError('--host', `must be unix://<path> or tcp://<host>:<port>, got ${JSON.stringify(host)}`)
}

/** The host the flags and the environment choose (see the module doc for the order). */
export function chooseHost(options: ConnectionOptions, env: Readonly<Record<string, string | undefined>>): Host {
  if (options.host !== undefined) return parseHost(options.host)
  const fromEnv = env[HOST_ENV]
  if (fromEnv !== undefined && fromEnv !== '') return parseHost(fromEnv)
  if (options.stateDir !== undefined) return { kind: 'unix', path: join(options.stateDir, CONTROL_SOCKET_FILE) }
  return { kind: 'unix', path: CONTROL_SOCKET_FILE }
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new InvalidArgumentError(flag, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
  }
}

/** The client certificate of `--tls-cert`, `--tls-key` and `--tls-ca` (all three needed). */
async function fileMaterial(options: ConnectionOptions): Promise<TlsMaterial> {
  for (const [flag, value] of [['--tls-cert', options.tlsCert], ['--tls-key', options.tlsKey], ['--tls-ca', options.tlsCa]] as const) {
    if (value === undefined) throw new InvalidArgumentError(flag, 'a tcp:// host needs a manager client certificate: --tls-cert, --tls-key and --tls-ca, or --state-dir of a manager')
  }
  return {
    certChainPem: await readPem(options.tlsCert ?? '', '--tls-cert'),
    keyPem: await readPem(options.tlsKey ?? '', '--tls-key'),
    trustBundlePem: await readPem(options.tlsCa ?? '', '--tls-ca'),
  }
}

/** The certificate of the manager whose state directory is `stateDir` (its key from `manager-keys.json`). */
async function stateDirMaterial(stateDir: string, unlockKey: string | undefined): Promise<TlsMaterial> {
  const paths = nodeCertificatePaths(stateDir)
  const keys = await ManagerKeyStore.open(managerStatePaths(stateDir).keys, { unlockKey }).catch((err: unknown) => {
    if (err instanceof Error && err.name === 'NotFoundError') throw new InvalidArgumentError('--state-dir', `${stateDir} holds no manager keys: give the state directory of a manager`, { cause: err })
    throw err
  })
  return { certChainPem: await readPem(paths.cert, '--state-dir'), keyPem: keys.tlsKeyPem, trustBundlePem: await readPem(paths.rootCa, '--state-dir') }
}

/**
 * Opens a control client for `host`: the local socket without certificates, or a tcp manager with
 * the client certificate of `--tls-cert/--tls-key/--tls-ca` or of a manager's `--state-dir`
 * (the server must present a manager certificate).
 *
 * @throws UnavailableError when there is no socket at a unix host's path; InvalidArgumentError
 *   naming the missing or unreadable TLS flag.
 */
export async function connect(host: Host, options: ConnectionOptions): Promise<ControlClient> {
  if (host.kind === 'unix') {
    const path = resolve(host.path)
    const found = await stat(path).then(
      (st) => st.isSocket(),
      () => false,
    )
    if (!found) throw new UnavailableError(`no manager control socket at ${path}: start a manager (swarmkit node start init --state-dir <dir>), or point --host or $${HOST_ENV} at its control.sock`)
    return connectControlSocket(path)
  }
  const material = options.tlsCert === undefined && options.tlsKey === undefined && options.tlsCa === undefined && options.stateDir !== undefined ? await stateDirMaterial(options.stateDir, options.unlockKey) : await fileMaterial(options)
  return new ControlClient({ address: host.address, credentials: credentials.forClient(material), channelOptions: credentials.channelOptions() })
}
