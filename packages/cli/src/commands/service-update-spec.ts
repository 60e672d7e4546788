/**
 * `service update`'s list flags (Docker's `--env-add KEY=v` / `--env-rm KEY`, `--publish-add` /
 * `--publish-rm 8080`, …) applied to a mutable copy of the current spec.
 *
 * @module
 */
import type { ServiceSpec } from '@swarmkit-ts/api'
import type { ControlClient } from '@swarmkit-ts/core'
import { parseMount, parsePublish, portKey, resolveConfigs, resolveSecrets } from './service-refs.ts'
import { envEntries, type ServiceFlags } from './service-spec.ts'
import { parseKeyValue } from './values.ts'

type ListName = 'env' | 'label' | 'containerLabel' | 'constraint' | 'publish' | 'mount' | 'secret' | 'config' | 'network'

/** The flags of `service update`: the shared ones, `--image`, `--args`, `--force`, and the add/rm pairs. */
export type ServiceUpdateFlags = ServiceFlags & {
  readonly image?: string
  readonly args?: string
  readonly force?: boolean
} & { readonly [K in `${ListName}${'Add' | 'Rm'}`]?: readonly string[] }

function keyOf(entry: string): string {
  const i = entry.indexOf('=')
  return i < 0 ? entry : entry.slice(0, i)
}

function editRecord(record: Readonly<Record<string, string>> | undefined, flag: string, add: readonly string[] | undefined, rm: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = { ...record }
  for (const k of rm ?? []) delete out[k]
  for (const v of add ?? []) {
    const [k, val] = parseKeyValue(flag, v)
    out[k] = val
  }
  return out
}

/** Applies every `--x-add` / `--x-rm` of `flags` (removals first, as Docker), resolving secret, config and network names (`env`: the CLI's environment, for a bare `--env-add KEY`). */
export async function applyListFlags(spec: ServiceSpec, flags: ServiceUpdateFlags, control: ControlClient, env: Readonly<Record<string, string | undefined>> = {}): Promise<void> {
  const container = spec.task.container
  if (container === undefined) return
  if (flags.envAdd !== undefined || flags.envRm !== undefined) {
    const removed = new Set([...(flags.envRm ?? []), ...(flags.envAdd ?? []).map((e) => parseKeyValue('--env-add', e)[0])])
    container.env = [...(container.env ?? []).filter((e) => !removed.has(keyOf(e))), ...envEntries('--env-add', flags.envAdd ?? [], env)]
  }
  if (flags.labelAdd !== undefined || flags.labelRm !== undefined) spec.annotations.labels = editRecord(spec.annotations.labels, '--label-add', flags.labelAdd, flags.labelRm)
  if (flags.containerLabelAdd !== undefined || flags.containerLabelRm !== undefined) {
    container.labels = editRecord(container.labels, '--container-label-add', flags.containerLabelAdd, flags.containerLabelRm)
  }
  if (flags.constraintAdd !== undefined || flags.constraintRm !== undefined) {
    const rm = new Set(flags.constraintRm ?? [])
    const kept = (spec.task.placement?.constraints ?? []).filter((c) => !rm.has(c))
    spec.task.placement = { ...spec.task.placement, constraints: [...kept, ...(flags.constraintAdd ?? []).filter((c) => !kept.includes(c))] }
  }
  if (flags.publishAdd !== undefined || flags.publishRm !== undefined) {
    const added = (flags.publishAdd ?? []).map((p) => parsePublish('--publish-add', p))
    // `--publish-rm 8080` or `8080/udp` names a published port (or a target port when not published).
    const rm = new Set((flags.publishRm ?? []).map((r) => (r.includes('/') ? r : `${r}/tcp`)))
    const keep = (spec.endpoint?.ports ?? []).filter((p) => !rm.has(portKey(p)) && !rm.has(`${p.targetPort}/${p.protocol ?? 'tcp'}`))
    const addedKeys = new Set(added.map(portKey))
    spec.endpoint = { ...spec.endpoint, ports: [...keep.filter((p) => (p.publishedPort ?? 0) === 0 || !addedKeys.has(portKey(p))), ...added] }
  }
  if (flags.mountAdd !== undefined || flags.mountRm !== undefined) {
    const added = (flags.mountAdd ?? []).map((m) => parseMount('--mount-add', m))
    const rm = new Set([...(flags.mountRm ?? []), ...added.map((m) => m.target)])
    container.mounts = [...(container.mounts ?? []).filter((m) => !rm.has(m.target)), ...added]
  }
  if (flags.secretAdd !== undefined || flags.secretRm !== undefined) {
    const added = await resolveSecrets(control, '--secret-add', flags.secretAdd ?? [])
    const rm = new Set(flags.secretRm ?? [])
    container.secrets = [...(container.secrets ?? []).filter((s) => !rm.has(s.secretName) && !rm.has(s.secretId)), ...added]
  }
  if (flags.configAdd !== undefined || flags.configRm !== undefined) {
    const added = await resolveConfigs(control, '--config-add', flags.configAdd ?? [])
    const rm = new Set(flags.configRm ?? [])
    container.configs = [...(container.configs ?? []).filter((c) => !rm.has(c.configName) && !rm.has(c.configId)), ...added]
  }
  if (flags.networkAdd !== undefined || flags.networkRm !== undefined) {
    const rmIds = new Set<string>()
    for (const n of flags.networkRm ?? []) rmIds.add((await control.networks.get(n)).id)
    const added: { target: string }[] = []
    for (const n of flags.networkAdd ?? []) added.push({ target: (await control.networks.get(n)).id })
    spec.task.networks = [...(spec.task.networks ?? []).filter((n) => !rmIds.has(n.target)), ...added]
  }
}
