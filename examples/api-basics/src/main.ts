/**
 * Build a service spec, fill in SwarmKit's defaults, validate it, see what a bad field looks like,
 * and round-trip it through the protobuf encoding.
 *
 * Run: pnpm --filter @swarmkit-ts/example-api-basics start
 */
import { isDeepStrictEqual } from 'node:util'
import {
  cryptoRandom,
  decodeSpec,
  encodeSpec,
  generateId,
  matchConstraints,
  parseConstraints,
  validateServiceSpec,
  withServiceDefaults,
  type Node,
  type ServiceSpec,
} from '@swarmkit-ts/api'

/** Runs the walkthrough and returns what it printed, line by line. */
export function run(print: (line: string) => void = console.log): void {
  const spec: ServiceSpec = withServiceDefaults({
    annotations: { name: 'web', labels: { tier: 'frontend' } },
    mode: { replicated: { replicas: 3 } },
    task: {
      container: { image: 'busybox', command: ['httpd', '-f', '-p', '8080'] },
      placement: { constraints: ['node.role == worker', 'node.labels.zone != east'] },
    },
    endpoint: { ports: [{ targetPort: 8080, publishedPort: 30080 }] },
  })
  validateServiceSpec(spec)
  print(`valid: ${spec.annotations.name}, update parallelism ${spec.update?.parallelism}, restart ${spec.task.restart?.condition} after ${spec.task.restart?.delayMs} ms`)

  const bad = { ...spec, task: { ...spec.task, resources: { limits: { memoryBytes: 1024 } } } }
  try {
    validateServiceSpec(bad)
  } catch (err) {
    const e = err as { name: string; field: string; message: string }
    print(`${e.name} at ${e.field}: ${e.message.slice(e.field.length + 2)}`)
  }

  const bytes = encodeSpec('service', spec)
  const back = decodeSpec('service', bytes)
  print(`protobuf: ${bytes.byteLength} bytes, round trip equal: ${isDeepStrictEqual(back, spec)}`)

  const node: Node = {
    id: generateId(cryptoRandom),
    meta: { version: { index: 1n }, createdAt: 0, updatedAt: 0 },
    spec: { annotations: { name: 'worker-1', labels: { zone: 'west' } }, desiredRole: 'worker', membership: 'accepted', availability: 'active' },
    status: { state: 'ready', addr: '10.0.0.7' },
    role: 'worker',
  }
  const constraints = parseConstraints(spec.task.placement?.constraints ?? [], 'task.placement.constraints')
  print(`worker-1 satisfies the placement constraints: ${matchConstraints(constraints, node)}`)
}

if (import.meta.url === `file://${process.argv[1]}`) run()
