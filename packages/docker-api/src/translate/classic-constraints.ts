/**
 * Swarm classic's scheduling syntax in a container's environment: `constraint:<key><op><value>`
 * and `affinity:container<op><name>` / `affinity:image<op><image>` entries, turned into placement
 * constraints of the container's service. These entries never reach the container.
 *
 * Mapping (classic → placement constraint):
 * - `constraint:node==x` → `node.id==x` when x is a node id, else `node.hostname==x`;
 * - `constraint:node.…==x` / `constraint:engine.labels.…==x` → passed through as written;
 * - `constraint:<label>==x` → `node.labels.<label>==x` (classic read the engine's labels; here a
 *   node's labels are set with `docker node update --label-add`);
 * - `affinity:container==c` → `node.id==<the node running c>`; `!=` keeps it off that node;
 * - `affinity:image==i` → `node.id==<the node running a task of i>` (one node only), `!=` → off
 *   every such node.
 * Operators `==` and `!=` only: classic's soft rules (`==~`), regular expressions (`/…/`) and
 * globs (`*`) are refused with the entry named.
 *
 * @module
 */
import { InvalidArgumentError, parseConstraint } from '@swarmkit-ts/api'

/** What the classic entries of a container's environment need to know about the cluster. */
export interface ClassicPlacementLookup {
  /** Whether `idOrPrefix` is the id of a node. */
  isNodeId(id: string): boolean
  /** The node running container (service) `name`, undefined when none does. */
  nodeOfContainer(name: string): string | undefined
  /** The nodes running a task of `image` (any tag given matches exactly; none given matches any tag). */
  nodesOfImage(image: string): readonly string[]
}

/** The environment split into what the container gets and the placement constraints. */
export interface ClassicEnvironment {
  /** The entries passed to the container. */
  readonly env: readonly string[]
  /** The placement constraints derived from the classic entries, in order. */
  readonly constraints: readonly string[]
}

/** Whether an environment entry is classic scheduling syntax rather than a variable. */
export function isClassicEntry(entry: string): boolean {
  return /^(constraint|affinity):/.test(entry)
}

interface Rule {
  readonly kind: 'constraint' | 'affinity'
  readonly key: string
  readonly operator: '==' | '!='
  readonly value: string
}

function parseRule(entry: string, field: string): Rule {
  const m = /^(constraint|affinity):([^=!~]+?)\s*(==~|!=~|==|!=)\s*(.*)$/.exec(entry)
  if (m === null) throw new InvalidArgumentError(field, `${JSON.stringify(entry)} is not a classic rule: write constraint:<key>==<value> or affinity:container==<name> (== or !=)`)
  const [, kind = '', key = '', op = '', value = ''] = m
  if (op.endsWith('~')) throw new InvalidArgumentError(field, `soft rules (${op}) are not supported by swarmkit-ts: ${JSON.stringify(entry)} (use == or !=)`)
  if (value === '') throw new InvalidArgumentError(field, `missing value in ${JSON.stringify(entry)}`)
  if (value.length > 1 && value.startsWith('/') && value.endsWith('/')) throw new InvalidArgumentError(field, `regular expressions are not supported by swarmkit-ts: ${JSON.stringify(entry)} (name one value)`)
  if (value.includes('*')) throw new InvalidArgumentError(field, `globs are not supported by swarmkit-ts: ${JSON.stringify(entry)} (name one value)`)
  return { kind: kind as Rule['kind'], key: key.trim(), operator: op as Rule['operator'], value }
}

function constraintOf(rule: Rule, lookup: ClassicPlacementLookup, field: string): string[] {
  const { key, operator, value } = rule
  if (rule.kind === 'constraint') {
    const lower = key.toLowerCase()
    let expression: string
    if (lower === 'node') expression = `${lookup.isNodeId(value) ? 'node.id' : 'node.hostname'}${operator}${value}`
    else if (lower.startsWith('node.') || lower.startsWith('engine.labels.')) expression = `${key}${operator}${value}`
    else expression = `node.labels.${key}${operator}${value}`
    parseConstraint(expression, field) // the api's grammar decides, naming the entry
    return [expression]
  }
  switch (key.toLowerCase()) {
    case 'container': {
      const node = lookup.nodeOfContainer(value)
      if (node === undefined) {
        if (operator === '!=') return []
        throw new InvalidArgumentError(field, `affinity:container==${value}: no running container ${JSON.stringify(value)}`)
      }
      return [`node.id${operator}${node}`]
    }
    case 'image': {
      const nodes = lookup.nodesOfImage(value)
      if (operator === '!=') return nodes.map((n) => `node.id!=${n}`)
      if (nodes.length === 0) throw new InvalidArgumentError(field, `affinity:image==${value}: no node runs a container of image ${JSON.stringify(value)}`)
      if (nodes.length > 1) {
        throw new InvalidArgumentError(field, `affinity:image==${value}: ${nodes.length} nodes run that image and a placement constraint names one node (add constraint:node==<name>)`)
      }
      return [`node.id==${nodes[0] as string}`]
    }
    default:
      throw new InvalidArgumentError(field, `unknown affinity ${JSON.stringify(key)} in ${JSON.stringify(rule.kind + ':' + key)}: use affinity:container or affinity:image`)
  }
}

/**
 * Splits `env` (the `Env` of a create request, field path `field`) into the container's variables
 * and the placement constraints of its classic entries; a bad entry throws
 * `InvalidArgumentError` naming `field[i]`.
 */
export function classicEnvironment(env: readonly string[], lookup: ClassicPlacementLookup, field = 'Env'): ClassicEnvironment {
  const kept: string[] = []
  const constraints: string[] = []
  env.forEach((entry, i) => {
    if (!isClassicEntry(entry)) {
      kept.push(entry)
      return
    }
    const at = `${field}[${i}]`
    for (const c of constraintOf(parseRule(entry, at), lookup, at)) if (!constraints.includes(c)) constraints.push(c)
  })
  return { env: kept, constraints }
}
