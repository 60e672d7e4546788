/**
 * The address this host reaches another at — what a node should call its own address when it is
 * given none, instead of assuming every node shares one host (127.0.0.1). As SwarmKit's
 * auto-detection from the route to the remote manager (`docker swarm join` without
 * `--advertise-addr`), it asks the kernel: a UDP socket connected to the remote address has the
 * source address the routing table picks for it. Nothing is sent.
 *
 * @module
 */
import { createSocket } from 'node:dgram'
import { isIP } from 'node:net'
import { InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'

const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/

/**
 * The IP this host uses to reach `address` (`host:port`, a host name, an IPv4 or a bracketed
 * IPv6 address): `10.0.0.7` toward `10.0.0.1:4242` on a 10.0.0.0/24 link, `127.0.0.1` toward
 * `127.0.0.1:4242`.
 *
 * @param field - the option the address came from, named by the errors.
 * @throws InvalidArgumentError naming `field` when `address` is not `host:port`;
 *   UnavailableError when the host does not resolve or no route leads to it.
 */
export async function localAddressToward(address: string, field = 'address'): Promise<string> {
  const m = HOST_PORT.exec(address)
  const port = Number(m?.[3])
  const host = m?.[1] ?? m?.[2]
  if (m === null || host === undefined || port > 65535 || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw new InvalidArgumentError(field, `must be host:port, got ${JSON.stringify(address)}`)
  }
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4')
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.once('error', reject)
      // Port 0 cannot be connected to; any port picks the same route.
      socket.connect(port === 0 ? 9 : port, host, (err?: Error) => {
        if (err === undefined || err === null) resolve(socket.address().address)
        else reject(err)
      })
    })
  } catch (err) {
    throw new UnavailableError(`${field}: no route to ${address}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  } finally {
    try {
      socket.close()
    } catch {
      // already closed by the failure
    }
  }
}
