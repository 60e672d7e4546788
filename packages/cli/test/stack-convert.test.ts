import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { interpolate } from '../src/stack/interpolate.ts'
import { splitCommand } from '../src/stack/shell-split.ts'
import { FIXTURES, fixtureStack } from './stack-rig.ts'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const DEPRECATED = "Ignoring deprecated options:\n\ncontainer_name: Setting the container name is not supported.\n\nexpose: Exposing ports is unnecessary - services on the same network can access each other's containers on any port.\n"
const NS = (ns: string): Record<string, string> => ({ 'com.docker.stack.namespace': ns })
const IMAGE = (image: string): Record<string, string> => ({ 'com.docker.stack.image': image })

describe('compose conversion', () => {
  it('converts the full fixture: deploy keys, ports, networks, secrets, configs, merge keys and defaults', () => {
    const stack = fixtureStack('good/full', ['docker-compose.yml'], 'shop', { WEB_TAG: '1.37' })
    expect(stack).toEqual({
      namespace: 'shop',
      services: [
        {
          key: 'migrate',
          name: 'shop_migrate',
          spec: {
            annotations: { name: 'shop_migrate', labels: { ...NS('shop'), ...IMAGE('busybox:1.36') } },
            task: { container: { image: 'busybox:1.36', labels: NS('shop'), args: ['true'] }, networks: [{ target: 'shop_default', aliases: ['migrate'] }] },
            mode: { replicatedJob: { maxConcurrent: 2, totalCompletions: 2 } },
          },
        },
        {
          key: 'web',
          name: 'shop_web',
          spec: {
            annotations: { name: 'shop_web', labels: { tier: 'frontend', ...NS('shop'), ...IMAGE('busybox:1.37') } },
            task: {
              container: {
                image: 'busybox:1.37',
                labels: { team: 'core', ...NS('shop') },
                args: ['httpd', '-f', '-p', '8080'],
                env: ['LOG_LEVEL=info', 'REGION=eu'],
                secrets: [{ secretId: '', secretName: 'shop_api_key', file: { name: 'api_key', uid: '0', gid: '0', mode: 0o444 } }],
                configs: [{ configId: '', configName: 'shop_site', file: { name: '/etc/site.conf', uid: '0', gid: '0', mode: 0o440 } }],
              },
              restart: { condition: 'on-failure', maxAttempts: 3 },
              placement: { constraints: ['node.role == worker'], preferences: [{ spread: { spreadDescriptor: 'node.labels.zone' } }], maxReplicas: 2 },
              resources: {
                limits: { nanoCpus: 500_000_000, memoryBytes: 64 * 1024 * 1024 },
                reservations: { memoryBytes: 32 * 1024 * 1024, generic: [{ kind: 'gpu', discreteValue: 1 }] },
              },
              networks: [
                { target: 'shop_back', aliases: ['web'] },
                { target: 'shop_front', aliases: ['web', 'www'] },
              ],
            },
            mode: { replicated: { replicas: 3 } },
            update: { parallelism: 2, delayMs: 10_000, failureAction: 'rollback', order: 'start-first' },
            endpoint: {
              mode: 'vip',
              ports: [
                { protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' },
                { protocol: 'tcp', targetPort: 443, publishedPort: 8443, publishMode: 'host' },
              ],
            },
          },
        },
        {
          key: 'worker',
          name: 'shop_worker',
          spec: {
            annotations: { name: 'shop_worker', labels: { ...NS('shop'), ...IMAGE('busybox:1.36') } },
            task: {
              container: { image: 'busybox:1.36', labels: { team: 'core', ...NS('shop') }, command: ['sh', '-c'], args: ['echo hi; sleep 3600'], env: ['EMPTY=', 'QUEUE=jobs'] },
              restart: { condition: 'any', delayMs: 5000, maxAttempts: 10, windowMs: 90_000 },
              networks: [{ target: 'shop_back', aliases: ['worker'] }],
            },
            mode: { global: {} },
            rollback: { parallelism: 0, monitorMs: 500, maxFailureRatio: 0.25 },
          },
        },
      ],
      networks: [
        { key: 'back', name: 'shop_back', spec: { annotations: { name: 'shop_back', labels: NS('shop') }, driverConfig: { name: 'overlay' } } },
        { key: 'default', name: 'shop_default', spec: { annotations: { name: 'shop_default', labels: NS('shop') }, driverConfig: { name: 'overlay' } } },
        { key: 'front', name: 'shop_front', spec: { annotations: { name: 'shop_front', labels: { purpose: 'edge', ...NS('shop') } }, driverConfig: { name: 'overlay' }, attachable: true } },
      ],
      externalNetworks: [],
      secrets: [{ key: 'api_key', name: 'shop_api_key', spec: { annotations: { name: 'shop_api_key', labels: NS('shop') }, data: bytes('hunter2\n') } }],
      externalSecrets: [],
      configs: [{ key: 'site', name: 'shop_site', spec: { annotations: { name: 'shop_site', labels: { kind: 'conf', ...NS('shop') } }, data: bytes('listen 80\n') } }],
      externalConfigs: [],
      warnings: ['Ignoring unsupported options: restart'],
    })
  })

  it('converts the misc fixture: external objects, fixed names, port ranges, healthcheck, legacy restart, ignored keys with warnings', () => {
    const warnings: string[] = []
    const stack = fixtureStack('good/misc', ['docker-compose.yml'], 'm', { FROM_SHELL: 'yes' }, (w) => warnings.push(w))
    expect(warnings).toEqual([
      'The API_TAG variable is not set. Defaulting to a blank string.',
      'Ignoring unsupported options: build, links, restart',
      DEPRECATED,
    ])
    expect(stack).toEqual({
      namespace: 'm',
      services: [
        {
          key: 'api',
          name: 'm_api',
          spec: {
            annotations: { name: 'm_api', labels: { ...NS('m'), ...IMAGE('busybox:') } },
            task: {
              container: {
                image: 'busybox:',
                labels: NS('m'),
                env: ['COST=$5', 'FROM_SHELL=yes'],
                hostname: 'api-host',
                dir: '/srv',
                user: '1000:1000',
                stopSignal: 'SIGINT',
                stopGracePeriodMs: 60_000,
                init: true,
                readOnly: true,
                healthcheck: { test: ['CMD-SHELL', 'wget -q -O- localhost:8080/health'], intervalMs: 30_000, timeoutMs: 5000, startPeriodMs: 60_000, retries: 3 },
                hosts: ['10.0.0.5 db.local'],
                secrets: [{ secretId: '', secretName: 'cert', file: { name: 'server.pem', uid: '100', gid: '101', mode: 0o400 } }],
              },
              restart: { condition: 'any' },
              networks: [{ target: 'platform-net', aliases: ['api'] }],
            },
            mode: { replicated: { replicas: 1 } },
            endpoint: {
              ports: [
                { protocol: 'udp', targetPort: 8000, publishedPort: 9000, publishMode: 'ingress' },
                { protocol: 'udp', targetPort: 8001, publishedPort: 9001, publishMode: 'ingress' },
                { protocol: 'tcp', targetPort: 3000, publishedPort: 0, publishMode: 'ingress' },
              ],
            },
          },
        },
        {
          key: 'db',
          name: 'm_db',
          spec: {
            annotations: { name: 'm_db', labels: { ...NS('m'), ...IMAGE('busybox') } },
            task: { container: { image: 'busybox', labels: NS('m') }, networks: [{ target: 'm_default', aliases: ['db'] }] },
            mode: { globalJob: {} },
          },
        },
      ],
      networks: [{ key: 'default', name: 'm_default', spec: { annotations: { name: 'm_default', labels: NS('m') }, driverConfig: { name: 'overlay' } } }],
      externalNetworks: ['platform-net'],
      secrets: [],
      externalSecrets: ['cert'],
      configs: [{ key: 'conf', name: 'fixed-conf-name', spec: { annotations: { name: 'fixed-conf-name', labels: NS('m') }, data: bytes('x') } }],
      externalConfigs: [],
      warnings: ['Ignoring unsupported options: build, links, restart', DEPRECATED],
    })
  })

  it('converts volumes (bind, named, external, anonymous, tmpfs; short and long syntax), env_file and logging', () => {
    const dir = join(FIXTURES, 'good', 'volumes')
    const stack = fixtureStack('good/volumes', ['docker-compose.yml'], 'v', { FROM_SHELL: 'x' })
    const data = { labels: { backup: 'daily', ...NS('v') }, driverConfig: { name: 'local', options: { type: 'none' } } }
    expect(stack.services.map((s) => s.spec)).toEqual([
      {
        annotations: { name: 'v_db', labels: { ...NS('v'), ...IMAGE('busybox') } },
        task: {
          container: {
            image: 'busybox',
            labels: NS('v'),
            env: ['FROM_SHELL=x', 'MODE=primary', 'PASSWORD=a=b', 'USER=admin'],
            mounts: [
              { type: 'bind', source: join(dir, 'conf'), target: '/etc/db', readOnly: true },
              { type: 'bind', source: '/var/log/db', target: '/logs' },
              { type: 'volume', source: 'v_data', target: '/var/lib/db', volumeOptions: data },
              { type: 'volume', source: 'cluster-shared', target: '/shared', volumeOptions: { noCopy: true } },
              { type: 'volume', target: '/scratch' },
              { type: 'tmpfs', target: '/tmp', tmpfsOptions: { sizeBytes: 64 * 1024 * 1024 } },
              { type: 'volume', source: 'v_data', target: '/backup', readOnly: true, volumeOptions: { noCopy: true, ...data } },
              { type: 'bind', source: join(dir, 'sock'), target: '/run/sock', bindOptions: { propagation: 'rshared' } },
            ],
          },
          logDriver: { name: 'json-file', options: { 'max-size': '10m' } },
          networks: [{ target: 'v_default', aliases: ['db'] }],
        },
        mode: { replicated: { replicas: 1 } },
      },
    ])
  })

  it('merges -c files in order: maps by key, lists replaced, ports by published port, list and map forms together', () => {
    const stack = fixtureStack('good/override', ['base.yml', 'prod.yml'], 'o', { REPLICAS: '4' })
    expect(stack.services).toEqual([
      {
        key: 'app',
        name: 'o_app',
        spec: {
          annotations: { name: 'o_app', labels: { x: '1', y: '2', ...NS('o'), ...IMAGE('busybox:2') } },
          task: {
            container: { image: 'busybox:2', labels: NS('o'), args: ['sleep', '2'], env: ['A=1', 'B=3', 'C=4'] },
            networks: [{ target: 'o_default', aliases: ['app'] }],
          },
          mode: { replicated: { replicas: 4 } },
          endpoint: {
            ports: [
              { protocol: 'tcp', targetPort: 81, publishedPort: 8080, publishMode: 'ingress' },
              { protocol: 'tcp', targetPort: 90, publishedPort: 9090, publishMode: 'ingress' },
            ],
          },
        },
      },
    ])
  })
})

describe('interpolation', () => {
  const env = (n: string): string | undefined => ({ SET: 'v', EMPTY: '' })[n]
  it.each([
    ['plain $SET and ${SET}', 'plain v and v'],
    ['${UNSET}|${EMPTY}', '|'],
    ['${UNSET:-d}|${EMPTY:-d}|${SET:-d}', 'd|d|v'],
    ['${UNSET-d}|${EMPTY-d}|${SET-d}', 'd||v'],
    ['${UNSET:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${SET:+alt}', '||alt|alt'],
    ['${UNSET:-${SET}-x}', 'v-x'],
    ['$$SET costs $$5', '$SET costs $5'],
    ['${EMPTY?must be set}', ''],
  ])('%s → %s', (text, out) => {
    expect(interpolate(text, env)).toBe(out)
  })

  it.each([
    ['${UNSET:?set it}', 'required variable UNSET is missing a value: set it'],
    ['${EMPTY:?}', 'required variable EMPTY is missing a value'],
    ['${UNSET?}', 'required variable UNSET is missing a value'],
    ['${SET', 'invalid interpolation format: "${SET"; escape a literal $ as $$'],
    ['cost $5', 'invalid interpolation format: "cost $5"; escape a literal $ as $$'],
    ['${SET:x}', 'invalid interpolation format: "${SET:x}"; escape a literal $ as $$'],
  ])('%s fails: %s', (text, message) => {
    expect(() => interpolate(text, env)).toThrow(message)
  })

  it('reports each unset variable it read', () => {
    const unset: string[] = []
    interpolate('$A ${B:-x} ${SET} ${C-y}', env, (n) => unset.push(n))
    expect(unset).toEqual(['A'])
  })
})

describe('command splitting', () => {
  it.each([
    ['httpd -f -p 8080', ['httpd', '-f', '-p', '8080']],
    [`sh -c 'echo "hi there"; sleep 1'`, ['sh', '-c', 'echo "hi there"; sleep 1']],
    [`echo "a \\"b\\"" c\\ d`, ['echo', 'a "b"', 'c d']],
    ['  ', []],
  ])('%s', (text, words) => {
    expect(splitCommand(text)).toEqual(words)
  })
  it('refuses an unterminated quote', () => {
    expect(splitCommand(`echo "oops`)).toBeUndefined()
  })
})
