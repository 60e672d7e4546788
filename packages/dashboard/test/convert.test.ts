import { describe, expect, it } from 'vitest'
import { NodeAvailability, withServiceDefaults } from '@swarmkit-ts/api'
import type { Node, Service } from '@swarmkit-ts/api'
import type { Frozen } from '@swarmkit-ts/store'
import { toServiceView } from '../src/convert.ts'
import { nodeObject, serviceObject, taskObject } from './store-cluster.ts'

const meta = { version: { index: 1n }, createdAt: 0, updatedAt: 0 }
const frozen = <T>(o: Omit<T, 'meta'>): Frozen<T> => ({ ...o, meta }) as unknown as Frozen<T>

describe('toServiceView', () => {
  const nodes = [frozen<Node>(nodeObject('w1')), frozen<Node>(nodeObject('w2')), frozen<Node>(nodeObject('w3'))]
  const drained = { ...nodes[2], spec: { ...nodes[2]?.spec, availability: NodeAvailability.DRAIN } } as Frozen<Node>
  const all = [nodes[0], nodes[1], drained] as Frozen<Node>[]
  const nodeOf = (id: string): Frozen<Node> | undefined => all.find((n) => n.id === id)

  it('counts a global service\'s desired tasks from the nodes it should run on, before any task exists', () => {
    const replicated = serviceObject('web', 2)
    const global = frozen<Service>({ ...replicated, id: 'g1', spec: withServiceDefaults({ ...replicated.spec, annotations: { name: 'agent' }, mode: { global: {} } }) })
    const view = toServiceView(global, [], nodeOf, () => all)
    expect([view.mode, view.desired, view.running]).toEqual(['global', 2, 0])
  })

  it('reads no node for a replicated service', () => {
    const web = frozen<Service>(serviceObject('web', 3))
    const tasks = [frozen(taskObject(web, 1, nodes[0]?.id ?? ''))] as Parameters<typeof toServiceView>[1]
    const view = toServiceView(web, tasks, nodeOf, () => {
      throw new Error('listed the nodes')
    })
    expect([view.mode, view.desired, view.running]).toEqual(['replicated', 3, 1])
  })
})
