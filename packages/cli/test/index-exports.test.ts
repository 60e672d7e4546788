import { describe, expect, it } from 'vitest'
import * as cli from '@swarmkit-ts/cli'
import { composeStack, deployStack, parseTemplate, removeStack, run, showProgress, TemplateError, type CommandContext } from '@swarmkit-ts/cli'
import { StackRig } from './stack-rig.ts'

describe('the package entry', { timeout: 60_000 }, () => {
  const rig = new StackRig()

  it('exports the programmatic API an embedder uses, and nothing of the internals', () => {
    expect(Object.keys(cli).sort()).toEqual(
      [
        'ComposeError',
        'ConvergeTracker',
        'DEFAULT_MONITOR_MS',
        'FOLLOW_RETRY_MS',
        'IMAGE_LABEL',
        'MAX_PROGRESS_BARS',
        'NAMESPACE_LABEL',
        'PlainScreen',
        'TEMPLATE_FUNCTIONS',
        'TemplateError',
        'TtyScreen',
        'composeStack',
        'deployStack',
        'drawBar',
        'followProgress',
        'parseTemplate',
        'removeStack',
        'run',
        'showProgress',
        'validateStack',
      ].sort(),
    )
  })

  it('deploys a compose file, follows a service to convergence, renders a template, and removes the stack — all from the entry', async () => {
    const control = await rig.start()
    const compose = 'services:\n  web:\n    image: busybox:fake\n    command: sleep 3600\n    deploy:\n      replicas: 2\n      update_config:\n        monitor: 100ms\n'
    const stack = composeStack([{ file: 'docker-compose.yml', text: compose }], { namespace: 'shop', env: () => undefined, readFile: () => new Uint8Array() })
    const log: string[] = []
    const result = await deployStack(control, stack, { log: (line) => log.push(line) })
    expect(log).toEqual(['Creating network shop_default', 'Creating service shop_web'])
    expect(result.actions.map((a) => a.kind)).toEqual(['create-network', 'create-service'])

    let out = ''
    const ctx: CommandContext = {
      io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true } },
      control: () => Promise.resolve(control),
      format: 'table',
      quiet: false,
      debug: false,
      signal: AbortSignal.timeout(50_000),
    }
    expect(await showProgress(ctx, 'shop_web', { kind: 'create' })).toEqual({ kind: 'converged' })
    expect(out.trimEnd().split('\n').at(-1)).toBe(`verify: Service ${(await control.services.get('shop_web')).id} converged`)

    const template = parseTemplate('{{.Spec.Name}} {{index .Spec.Labels "com.docker.stack.namespace"}}')
    expect(template.execute(JSON.parse(JSON.stringify(await control.services.get('shop_web'), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))))).toBe('shop_web shop')
    expect(() => parseTemplate('{{.Spec')).toThrow(TemplateError)

    let ls = ''
    expect(await run(['--host', `unix://${rig.manager.controlSocketPath}`, 'stack', 'ls'], { stdout: { write: (s: string) => (ls += s) }, stderr: { write: () => true } })).toBe(0)
    expect(ls).toBe('NAME   SERVICES\nshop   1\n')
    expect(await removeStack(control, 'shop')).toEqual({ services: ['shop_web'], secrets: [], configs: [], networks: ['shop_default'] })
  })
})
