import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { ComposeError } from '../src/stack/tree.ts'
import { FIXTURES, fixtureStack } from './stack-rig.ts'

/** Every bad fixture and the exact message it is refused with. */
const BAD: readonly (readonly [string, string])[] = [
    ['anchor-error.yml', 'anchor-error.yml:4: services.web.deploy.update_config.order: must be one of stop-first, start-first'],
    ['bad-duration.yml', 'bad-duration.yml:7: services.web.deploy.update_config.delay: must be a duration such as 10s, 1m30s or 500ms'],
    ['bad-interpolation.yml', 'bad-interpolation.yml:5: services.web.environment.PRICE: invalid interpolation format: "${AMOUNT"; escape a literal $ as $$'],
    ['bad-merge.yml', 'bad-merge.yml:4: services.web.<<: a merge key must refer to a mapping or a list of mappings'],
    ['bad-mode.yml', 'bad-mode.yml:5: services.web.deploy.mode: must be one of replicated, global, replicated-job, global-job'],
    ['bad-port.yml', 'bad-port.yml:6: services.web.ports[1]: invalid port "70000": must be 1–65535'],
    ['bad-restart.yml', 'bad-restart.yml:4: services.web.restart: must be no, always, unless-stopped or on-failure[:max-retries]'],
    ['bad-yaml.yml', 'bad-yaml.yml:4: All mapping items must start at the same column'],
    ['duplicate-key.yml', 'duplicate-key.yml:4: Map keys must be unique'],
    ['external-with-driver.yml', 'external-with-driver.yml:8: networks.edge.driver: conflicts with external: an external network is not created'],
    ['failure-ratio.yml', 'failure-ratio.yml:6: services.web.deploy.rollback_config.max_failure_ratio: must be between 0 and 1'],
    ['generic-both.yml', 'generic-both.yml:8: services.web.deploy.resources.reservations.generic_resources[0]: must have exactly one of discrete_resource_spec, named_resource_spec'],
    ['global-replicas.yml', 'global-replicas.yml:6: services.agent.deploy.replicas: replicas can only be used with replicated or replicated-job mode, not global'],
    ['memory.yml', 'memory.yml:7: services.web.deploy.resources.limits.memory: must be a size such as 512M or 1g'],
    ['missing-image.yml', 'missing-image.yml:2: services.web: image is required'],
    ['not-a-mapping.yml', 'not-a-mapping.yml:1: top-level object must be a mapping'],
    ['placement-preference.yml', 'placement-preference.yml:8: services.web.deploy.placement.preferences[1]: additional property pack is not allowed'],
    ['replicas-string.yml', 'replicas-string.yml:5: services.web.deploy.replicas: must be an integer'],
    ['required-variable.yml', 'required-variable.yml:3: services.web.image: required variable TAG is missing a value: set TAG to the image tag'],
    ['secret-missing-file.yml', 'secret-missing-file.yml:7: secrets.token.file: cannot read ./no-such-file.txt: ENOENT'],
    ['secret-without-file.yml', 'secret-without-file.yml:5: secrets.token: file or external is required'],
    ['undefined-network.yml', 'undefined-network.yml:6: services.web.networks.back: service refers to undefined network back'],
    ['undefined-secret.yml', 'undefined-secret.yml:5: services.web.secrets[0]: undefined secret "db_password"'],
    ['unknown-key.yml', 'unknown-key.yml:4: services.web: additional property imagee is not allowed'],
    ['undefined-volume.yml', 'undefined-volume.yml:5: services.db.volumes[0]: undefined volume "data"'],
    ['tmpfs.yml', 'tmpfs.yml:4: services.web.tmpfs: not supported by swarmkit-ts stacks yet'],
    ['bad-volume-mode.yml', 'bad-volume-mode.yml:5: services.web.volumes[0]: invalid mode "rx" in volume "./data:/data:rx"'],
]

describe('bad compose files', () => {
  it('lists every bad fixture in the table', () => {
    const files = readdirSync(join(FIXTURES, 'bad')).filter((f) => f.endsWith('.yml') && !f.startsWith('override-'))
    expect(BAD.map(([f]) => f).sort()).toEqual(files.sort())
  })

  it.each(BAD)('%s is refused with its file, line and key', (file, message) => {
    let caught: unknown
    try {
      fixtureStack('bad', [file], 'app')
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError)
    expect(caught).toBeInstanceOf(ComposeError)
    expect((caught as Error).name).toBe('InvalidArgumentError')
    expect((caught as Error).message).toBe(message)
  })

  it('names the key path as the field and the file and line apart', () => {
    let caught: unknown
    try {
      fixtureStack('bad', ['replicas-string.yml'], 'app')
    } catch (err) {
      caught = err
    }
    const e = caught as ComposeError
    expect([e.field, e.file, e.line]).toEqual(['services.web.deploy.replicas', 'replicas-string.yml', 5])
  })

  it('reports an error of an override file at its own line', () => {
    let caught: unknown
    try {
      fixtureStack('bad', ['override-base.yml', 'override-bad.yml'], 'app')
    } catch (err) {
      caught = err
    }
    expect((caught as Error).message).toBe('override-bad.yml:5: services.web.deploy.replicas: must be at least 0')
  })

  it('refuses a stack name that cannot prefix service names', () => {
    expect(() => fixtureStack('good/redeploy', ['v1.yml'], 'my stack')).toThrow(
      'namespace: invalid stack name "my stack": letters, digits, \'-\' and \'_\', starting with a letter or digit',
    )
  })
})
