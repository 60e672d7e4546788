/**
 * Replica programs for the routing mesh tests, written out as plain ES modules at test time (a
 * child `node` runs them as they are: no TypeScript loader in the runtime's working directory).
 * Each listens on `$PORT` at `$HOST` (default 127.0.0.1), prints `listening`, and answers with
 * `$REPLICA`.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** An HTTP server answering `$REPLICA` to every request. */
export const HTTP_REPLICA = `import { createServer } from 'node:http'
const id = process.env.REPLICA ?? 'unknown'
const server = createServer((_req, res) => res.end(id))
server.keepAliveTimeout = 60_000
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1', () => console.log('listening'))
process.on('SIGTERM', () => process.exit(0))
`

/** A UDP server answering \`$REPLICA:<message>\` to every datagram. */
export const UDP_REPLICA = `import { createSocket } from 'node:dgram'
const id = process.env.REPLICA ?? 'unknown'
const socket = createSocket('udp4')
socket.on('message', (msg, rinfo) => socket.send(id + ':' + msg.toString(), rinfo.port, rinfo.address))
socket.bind(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1', () => console.log('listening'))
process.on('SIGTERM', () => process.exit(0))
`

/** Writes both programs into `dir`; their paths. */
export async function writeReplicaPrograms(dir: string): Promise<{ http: string; udp: string }> {
  const http = join(dir, 'mesh-http-replica.mjs')
  const udp = join(dir, 'mesh-udp-replica.mjs')
  await writeFile(http, HTTP_REPLICA)
  await writeFile(udp, UDP_REPLICA)
  return { http, udp }
}
