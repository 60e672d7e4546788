/**
 * Shared by tests and benchmarks that publish ports: a TCP port free now, and a plain HTTP GET
 * that never throws. Tests and benchmarks import it relatively; the bench-built bundler inlines it.
 *
 * @module
 */
import { request } from 'node:http'
import { createServer } from 'node:net'

/** A TCP port free on 127.0.0.1 now (the OS picks it; the probe is closed before it resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** The body of `GET http://host:port/`, or `undefined` when the connection fails or stays silent for 5 s. */
export function httpGet(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve(body))
      res.on('error', () => resolve(undefined))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}
