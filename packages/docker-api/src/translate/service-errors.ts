/**
 * The api's validation errors of a service spec in Docker's terms: `task.container.mounts[0].target`
 * becomes `TaskTemplate.ContainerSpec.Mounts[0].Target`, so a Docker client is told the field it
 * sent. A path with a segment that has no Docker name is left as the api wrote it.
 *
 * @module
 */
import { ErrorName, InvalidArgumentError } from '@swarmkit-ts/api'

/** The Docker name of each api spec field name (the same in every object where it occurs). */
const DOCKER_NAMES: Readonly<Record<string, string>> = {
  name: 'Name',
  labels: 'Labels',
  task: 'TaskTemplate',
  container: 'ContainerSpec',
  image: 'Image',
  command: 'Command',
  args: 'Args',
  hostname: 'Hostname',
  env: 'Env',
  dir: 'Dir',
  user: 'User',
  groups: 'Groups',
  init: 'Init',
  tty: 'TTY',
  readOnly: 'ReadOnly',
  stopSignal: 'StopSignal',
  stopGracePeriodMs: 'StopGracePeriod',
  mounts: 'Mounts',
  type: 'Type',
  source: 'Source',
  target: 'Target',
  secrets: 'Secrets',
  secretId: 'SecretID',
  secretName: 'SecretName',
  configs: 'Configs',
  configId: 'ConfigID',
  configName: 'ConfigName',
  file: 'File',
  uid: 'UID',
  gid: 'GID',
  mode: 'Mode',
  hosts: 'Hosts',
  dnsConfig: 'DNSConfig',
  healthcheck: 'Healthcheck',
  test: 'Test',
  intervalMs: 'Interval',
  timeoutMs: 'Timeout',
  startPeriodMs: 'StartPeriod',
  retries: 'Retries',
  isolation: 'Isolation',
  sysctls: 'Sysctls',
  capabilityAdd: 'CapabilityAdd',
  capabilityDrop: 'CapabilityDrop',
  ulimits: 'Ulimits',
  resources: 'Resources',
  limits: 'Limits',
  reservations: 'Reservations',
  nanoCpus: 'NanoCPUs',
  memoryBytes: 'MemoryBytes',
  generic: 'GenericResources',
  restart: 'RestartPolicy',
  condition: 'Condition',
  delayMs: 'Delay',
  maxAttempts: 'MaxAttempts',
  windowMs: 'Window',
  placement: 'Placement',
  constraints: 'Constraints',
  preferences: 'Preferences',
  maxReplicas: 'MaxReplicas',
  platforms: 'Platforms',
  networks: 'Networks',
  aliases: 'Aliases',
  logDriver: 'LogDriver',
  options: 'Options',
  forceUpdate: 'ForceUpdate',
  replicated: 'Replicated',
  replicas: 'Replicas',
  global: 'Global',
  replicatedJob: 'ReplicatedJob',
  maxConcurrent: 'MaxConcurrent',
  totalCompletions: 'TotalCompletions',
  globalJob: 'GlobalJob',
  update: 'UpdateConfig',
  rollback: 'RollbackConfig',
  parallelism: 'Parallelism',
  failureAction: 'FailureAction',
  monitorMs: 'Monitor',
  maxFailureRatio: 'MaxFailureRatio',
  order: 'Order',
  endpoint: 'EndpointSpec',
  ports: 'Ports',
  protocol: 'Protocol',
  targetPort: 'TargetPort',
  publishedPort: 'PublishedPort',
  publishMode: 'PublishMode',
}

/** The Docker path of an api spec field path, or undefined when a segment has no Docker name. */
export function dockerFieldPath(apiField: string): string | undefined {
  const segments = apiField.split('.')
  if (segments[0] === 'annotations') segments.shift()
  const out: string[] = []
  for (const segment of segments) {
    const m = /^([A-Za-z]+)((?:\[\d+\])*)$/.exec(segment)
    const docker = m === null ? undefined : DOCKER_NAMES[m[1] ?? '']
    if (docker === undefined) return undefined
    out.push(`${docker}${m?.[2] ?? ''}`)
  }
  return out.length === 0 ? undefined : out.join('.')
}

/** `err` with its field in Docker's terms when it is an api `InvalidArgumentError` about a spec field; else `err`. */
export function inDockerTerms(err: unknown): unknown {
  if (!(err instanceof Error) || err.name !== ErrorName.InvalidArgument) return err
  const field = (err as InvalidArgumentError).field
  if (typeof field !== 'string' || field === '' || !err.message.startsWith(`${field}: `)) return err
  const docker = dockerFieldPath(field)
  if (docker === undefined || docker === field) return err
  return new InvalidArgumentError(docker, err.message.slice(field.length + 2), { cause: err })
}
