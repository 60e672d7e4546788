// The demo's web service: a task on the `process` runtime's `node` image. It listens on `PORT`
// (the host port the runtime allocated for the task's published port) and answers every request
// with one line saying who answered: the node (the name of the node's state directory, which
// the demo also gives as the node's hostname: the task's working directory is
// `<stateDir>/runtime/process/containers/<container>/work`), the container, the pid, and the
// GREETING variable of the service (changed by the demo's rolling update).
import { createServer } from 'node:http'
import { sep } from 'node:path'

const parts = process.cwd().split(sep)
const at = parts.lastIndexOf('runtime')
const node = at > 0 ? parts[at - 1] : 'unknown'
const container = at > 0 && parts[at + 3] !== undefined ? parts[at + 3].slice(0, 12) : 'unknown'
const greeting = process.env.GREETING ?? ''
const port = Number(process.env.PORT ?? '8080')

const server = createServer((req, res) => {
  res.setHeader('content-type', 'text/plain')
  res.end(`${greeting} from node ${node}, container ${container}, pid ${process.pid}\n`)
})
server.listen(port)
process.on('SIGTERM', () => server.close(() => process.exit(0)))
