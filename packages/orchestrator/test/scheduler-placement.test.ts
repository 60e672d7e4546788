import { NodeAvailability, NodeState, TaskState } from '@swarmkit-ts/api'
import type { Node, Task, TaskSpec } from '@swarmkit-ts/api'
import { describe, expect, it } from 'vitest'
import { NodeSet } from '../src/scheduler/node-info.ts'
import { placeGroup } from '../src/scheduler/placement.ts'
import type { PlacementResult } from '../src/scheduler/placement.ts'
import { makeNode, makeTask, makeTasks, runningOn } from './helpers/scheduler-fixtures.ts'

const NOW = 1_700_000_000_000
const GB = 1024 ** 3

function place(nodes: readonly Node[], tasks: readonly Task[], existing: readonly Task[] = [], strategy: 'spread' | 'binpack' = 'spread'): PlacementResult {
  return placeGroup(NodeSet.from(nodes, existing), { tasks }, { strategy, now: NOW })
}

/** Placed tasks per node id. */
function perNode(r: PlacementResult): Record<string, number> {
  const out: Record<string, number> = {}
  for (const p of r.placed) out[p.nodeId] = (out[p.nodeId] ?? 0) + 1
  return out
}

function spec(s: TaskSpec): { spec: TaskSpec } {
  return { spec: { container: { image: 'busybox' }, ...s } }
}

describe('scheduler placement: filters', () => {
  it('ready filter: down, paused and drained nodes take no task (plural and singular wording)', () => {
    const nodes = [
      makeNode('a', { state: NodeState.DOWN }),
      makeNode('b', { availability: NodeAvailability.DRAIN }),
      makeNode('c', { availability: NodeAvailability.PAUSE }),
    ]
    expect(place(nodes, [makeTask('t1')]).unplaced).toEqual(new Map([['t1', 'no suitable node (3 nodes not available for new tasks)']]))
    expect(place(nodes.slice(0, 1), [makeTask('t1')]).unplaced.get('t1')).toBe('no suitable node (1 node not available for new tasks)')
    expect(place([...nodes, makeNode('d')], [makeTask('t1')]).placed).toEqual([{ taskId: 't1', nodeId: 'd', genericResources: [] }])
  })

  it('resources filter: CPU and memory reservations fit what is available, never over-committing a node', () => {
    const nodes = [makeNode('a', { resources: { nanoCpus: 4e9, memoryBytes: 2 * GB } }), makeNode('b', { resources: { nanoCpus: 1e9, memoryBytes: 8 * GB } })]
    const r = place(nodes, makeTasks('t', 3, spec({ resources: { reservations: { nanoCpus: 2e9, memoryBytes: 1 * GB } } })))
    expect(perNode(r)).toEqual({ a: 2 })
    expect(r.unplaced).toEqual(new Map([['t3', 'no suitable node (insufficient resources on 2 nodes)']]))
  })

  it('resources filter: reservations of running tasks are not available', () => {
    const s = spec({ resources: { reservations: { memoryBytes: 3 * GB } } })
    const nodes = [makeNode('a', { resources: { memoryBytes: 4 * GB } }), makeNode('b', { resources: { memoryBytes: 4 * GB } })]
    const r = place(nodes, [makeTask('t1', s)], [runningOn('old', 'a', s)])
    expect(r.placed.map((p) => p.nodeId)).toEqual(['b'])
  })

  it('generic resources: named values (GPU=gpu0) are assigned one by one and reserved', () => {
    const gpus = [
      { kind: 'GPU', namedValue: 'gpu1' },
      { kind: 'GPU', namedValue: 'gpu0' },
    ]
    const nodes = [makeNode('a', { resources: { generic: gpus } })]
    const r = place(nodes, makeTasks('t', 3, spec({ resources: { reservations: { generic: [{ kind: 'GPU', discreteValue: 1 }] } } })))
    expect(r.placed).toEqual([
      { taskId: 't1', nodeId: 'a', genericResources: [{ kind: 'GPU', namedValue: 'gpu0' }] },
      { taskId: 't2', nodeId: 'a', genericResources: [{ kind: 'GPU', namedValue: 'gpu1' }] },
    ])
    expect(r.unplaced.get('t3')).toBe('no suitable node (insufficient resources on 1 node)')
  })

  it('generic resources: a running task holds its assigned named value; releasing it frees the value', () => {
    const gpus = [
      { kind: 'GPU', namedValue: 'gpu0' },
      { kind: 'GPU', namedValue: 'gpu1' },
    ]
    const s = spec({ resources: { reservations: { generic: [{ kind: 'GPU', discreteValue: 1 }] } } })
    const set = NodeSet.from([makeNode('a', { resources: { generic: gpus } })], [runningOn('old', 'a', { ...s, assignedGenericResources: [{ kind: 'GPU', namedValue: 'gpu0' }] })])
    expect(placeGroup(set, { tasks: [makeTask('t1', s)] }, { strategy: 'spread', now: NOW }).placed[0]?.genericResources).toEqual([{ kind: 'GPU', namedValue: 'gpu1' }])
    set.applyTask(runningOn('old', 'a', { ...s, state: TaskState.COMPLETE, assignedGenericResources: [{ kind: 'GPU', namedValue: 'gpu0' }] }))
    expect(placeGroup(set, { tasks: [makeTask('t2', s)] }, { strategy: 'spread', now: NOW }).placed[0]?.genericResources).toEqual([{ kind: 'GPU', namedValue: 'gpu0' }])
  })

  it('generic resources: discrete amounts (SSD=2) are counted down', () => {
    const nodes = [makeNode('a', { resources: { generic: [{ kind: 'SSD', discreteValue: 3 }] } })]
    const r = place(nodes, makeTasks('t', 2, spec({ resources: { reservations: { generic: [{ kind: 'SSD', discreteValue: 2 }] } } })))
    expect(r.placed).toEqual([{ taskId: 't1', nodeId: 'a', genericResources: [{ kind: 'SSD', discreteValue: 2 }] }])
    expect(r.unplaced.get('t2')).toBe('no suitable node (insufficient resources on 1 node)')
  })

  it('plugin filter: a log driver missing from an engine that reports log plugins fails the node', () => {
    const nodes = [
      makeNode('a', { plugins: [{ type: 'Log', name: 'json-file' }] }),
      makeNode('b', { plugins: [{ type: 'Log', name: 'fluentd:latest' }] }),
      makeNode('c', { plugins: [{ type: 'Network', name: 'overlay' }] }),
    ]
    const r = place(nodes, makeTasks('t', 3, spec({ logDriver: { name: 'fluentd' } })), [], 'spread')
    expect(perNode(r)).toEqual({ b: 2, c: 1 })
    expect(place(nodes.slice(0, 1), [makeTask('t1', spec({ logDriver: { name: 'fluentd' } }))]).unplaced.get('t1')).toBe(
      'no suitable node (missing plugin on 1 node)',
    )
  })

  it('plugin filter: volume drivers (not local) and network drivers must be installed on the engine', () => {
    const nodes = [
      makeNode('a', { plugins: [{ type: 'Volume', name: 'rexray' }, { type: 'Network', name: 'weave' }] }),
      makeNode('b', { plugins: [{ type: 'Volume', name: 'rexray' }] }),
      makeNode('c', { plugins: [] }),
    ]
    const volume = spec({ container: { image: 'busybox', mounts: [{ type: 'volume', source: 'v', target: '/data', volumeOptions: { driverConfig: { name: 'rexray' } } }] } })
    expect(perNode(place(nodes, makeTasks('t', 2, volume)))).toEqual({ a: 1, b: 1 })
    const task = makeTask('n1', volume)
    const withNet: Task = { ...task, networks: [{ networkId: 'net1' }] }
    const r = placeGroup(NodeSet.from(nodes, []), { tasks: [withNet] }, { strategy: 'spread', now: NOW, networkDriver: (id) => (id === 'net1' ? 'weave' : undefined) })
    expect(r.placed.map((p) => p.nodeId)).toEqual(['a'])
    const none = placeGroup(NodeSet.from(nodes.slice(1), []), { tasks: [withNet] }, { strategy: 'spread', now: NOW, networkDriver: () => 'weave' })
    expect(none.unplaced.get('n1')).toBe('no suitable node (missing plugin on 2 nodes)')
  })

  it('constraint filter: only nodes matching every constraint take the task', () => {
    const nodes = [makeNode('a', { labels: { zone: 'east' } }), makeNode('b', { labels: { zone: 'west' } }), makeNode('c')]
    const r = place(nodes, makeTasks('t', 2, spec({ placement: { constraints: ['node.labels.zone == east'] } })))
    expect(perNode(r)).toEqual({ a: 2 })
    const none = place(nodes, [makeTask('x', spec({ placement: { constraints: ['node.labels.zone == north'] } }))])
    expect(none.unplaced.get('x')).toBe('no suitable node (scheduling constraints not satisfied on 3 nodes)')
  })

  it('platform filter: x86_64 counts as amd64 and aarch64 as arm64', () => {
    const nodes = [
      makeNode('a', { platform: { os: 'linux', architecture: 'aarch64' } }),
      makeNode('b', { platform: { os: 'linux', architecture: 'x86_64' } }),
      makeNode('c', { platform: { os: 'windows', architecture: 'amd64' } }),
    ]
    const arm = place(nodes, makeTasks('t', 2, spec({ placement: { platforms: [{ os: 'linux', architecture: 'arm64' }] } })))
    expect(perNode(arm)).toEqual({ a: 2 })
    const amd = place(nodes, makeTasks('t', 2, spec({ placement: { platforms: [{ os: 'linux', architecture: 'amd64' }] } })))
    expect(perNode(amd)).toEqual({ b: 2 })
    const none = place(nodes, [makeTask('x', spec({ placement: { platforms: [{ os: 'linux', architecture: 's390x' }] } }))])
    expect(none.unplaced.get('x')).toBe('no suitable node (unsupported platform on 3 nodes)')
  })

  it('host port filter: a host-mode published port is used once per node', () => {
    const nodes = [makeNode('a'), makeNode('b'), makeNode('c')]
    const r = place(nodes, makeTasks('t', 3, { hostPorts: [8080] }), [runningOn('old', 'a', { hostPorts: [8080], serviceId: 'other' })])
    expect(perNode(r)).toEqual({ b: 1, c: 1 })
    expect(r.unplaced.get('t3')).toBe('no suitable node (host-mode port already in use on 3 nodes)')
  })

  it('max replicas filter: at most maxReplicas tasks of the service per node', () => {
    const nodes = [makeNode('a'), makeNode('b')]
    const r = place(nodes, makeTasks('t', 5, spec({ placement: { maxReplicas: 2 } })), [runningOn('old', 'a', spec({ placement: { maxReplicas: 2 } }))])
    expect(perNode(r)).toEqual({ a: 1, b: 2 })
    expect([...r.unplaced.entries()]).toEqual([
      ['t4', 'no suitable node (max replicas per node limit exceed)'],
      ['t5', 'no suitable node (max replicas per node limit exceed)'],
    ])
  })

  it('explanation: one reason per node (the first failing filter), sorted by count, descending', () => {
    const big = spec({ resources: { reservations: { memoryBytes: 2 * GB } }, placement: { constraints: ['node.labels.zone == east'] } })
    const nodes = [
      makeNode('a', { resources: { memoryBytes: 1 * GB } }),
      makeNode('b', { resources: { memoryBytes: 1 * GB }, labels: { zone: 'west' } }),
      makeNode('c', { resources: { memoryBytes: 1 * GB } }),
      makeNode('d', { resources: { memoryBytes: 4 * GB }, labels: { zone: 'west' } }),
      makeNode('e', { resources: { memoryBytes: 4 * GB } }),
      makeNode('f', { state: NodeState.DOWN }),
    ]
    expect(place(nodes, [makeTask('t1', big)]).unplaced.get('t1')).toBe(
      'no suitable node (insufficient resources on 3 nodes; scheduling constraints not satisfied on 2 nodes; 1 node not available for new tasks)',
    )
    expect(place([], [makeTask('t1')]).unplaced.get('t1')).toBe('no suitable node')
  })

  it('pre-assigned tasks are only checked on their node and reserved there', () => {
    const s = spec({ resources: { reservations: { memoryBytes: 3 * GB } } })
    const nodes = [makeNode('a', { resources: { memoryBytes: 4 * GB } }), makeNode('b', { resources: { memoryBytes: 8 * GB } })]
    const set = NodeSet.from(nodes, [])
    const r = placeGroup(set, { tasks: [makeTask('g1', { ...s, nodeId: 'a' }), makeTask('g2', { ...s, nodeId: 'a' }), makeTask('g3', { ...s, nodeId: 'zz' })] }, { strategy: 'spread', now: NOW })
    expect(r.placed).toEqual([{ taskId: 'g1', nodeId: 'a', genericResources: [] }])
    expect(r.unplaced).toEqual(
      new Map([
        ['g2', 'no suitable node (insufficient resources on 1 node)'],
        ['g3', 'no suitable node (node zz not found)'],
      ]),
    )
    expect(set.get('a')?.availableMemoryBytes).toBe(1 * GB)
  })
})

describe('scheduler placement: regressions', () => {
  it('a node whose task count went up and back down is offered once (was placed twice beyond its memory)', () => {
    // Found by the fast-path equivalence property: two load entries with the same count.
    const set = NodeSet.from([makeNode('n0', { resources: { memoryBytes: 1 * GB } })], [])
    const first = placeGroup(set, { tasks: [makeTask('a')] }, { strategy: 'spread', now: NOW })
    expect(first.placed).toEqual([{ taskId: 'a', nodeId: 'n0', genericResources: [] }])
    set.applyTask(runningOn('a', 'n0', { state: TaskState.COMPLETE }))
    const r = placeGroup(set, { tasks: makeTasks('t', 2, spec({ resources: { reservations: { memoryBytes: 1 * GB } } })) }, { strategy: 'spread', now: NOW })
    expect(r.placed.map((p) => p.nodeId)).toEqual(['n0'])
    expect(r.unplaced).toEqual(new Map([['t2', 'no suitable node (insufficient resources on 1 node)']]))
  })
})

describe('scheduler placement: ranking', () => {
  it('a node with 5 failures of the service in the last 5 minutes ranks last, until they age out', () => {
    const set = NodeSet.from([makeNode('a'), makeNode('b')], [runningOn('x1', 'b'), runningOn('x2', 'b')])
    for (let i = 0; i < 5; i++) set.recordFailure('svc', 'a', NOW - 60_000 + i)
    expect(placeGroup(set, { tasks: [makeTask('t1')] }, { strategy: 'spread', now: NOW }).placed[0]?.nodeId).toBe('b')
    const later = NOW - 60_000 + 5 * 60_000
    expect(placeGroup(set, { tasks: [makeTask('t2')] }, { strategy: 'spread', now: later }).placed[0]?.nodeId).toBe('a')
  })

  it('four failures do not make a node faulty', () => {
    const set = NodeSet.from([makeNode('a'), makeNode('b')], [runningOn('x1', 'b')])
    for (let i = 0; i < 4; i++) set.recordFailure('svc', 'a', NOW - i)
    expect(placeGroup(set, { tasks: [makeTask('t1')] }, { strategy: 'spread', now: NOW }).placed[0]?.nodeId).toBe('a')
  })

  it('fewest tasks of this service wins', () => {
    const nodes = [makeNode('a'), makeNode('b'), makeNode('c')]
    const r = place(nodes, makeTasks('t', 4), [runningOn('x1', 'a'), runningOn('x2', 'a'), runningOn('x3', 'b')])
    // a 2, b 1, c 0 → c, then b (tie on both counts, by id), c, then a (all at 2).
    expect(r.placed.map((p) => p.nodeId)).toEqual(['c', 'b', 'c', 'a'])
  })

  it('with equal tasks of the service, fewest tasks in total wins', () => {
    const nodes = [makeNode('a'), makeNode('b')]
    const other = { serviceId: 'other' }
    const r = place(nodes, makeTasks('t', 1), [runningOn('o1', 'a', other), runningOn('o2', 'a', other)])
    expect(r.placed[0]?.nodeId).toBe('b')
  })

  it('a reservation is seen by the next group', () => {
    const set = NodeSet.from([makeNode('a'), makeNode('b')], [])
    placeGroup(set, { tasks: makeTasks('s', 3, { serviceId: 's1' }) }, { strategy: 'spread', now: NOW })
    const r = placeGroup(set, { tasks: makeTasks('t', 1, { serviceId: 's2' }) }, { strategy: 'spread', now: NOW })
    expect(r.placed[0]?.nodeId).toBe('b')
  })
})

describe('scheduler placement: spread preferences', () => {
  it('one level: tasks split evenly over label values, nodes without the label on the "" branch', () => {
    const nodes = [makeNode('a', { labels: { zone: 'east' } }), makeNode('b', { labels: { zone: 'east' } }), makeNode('c', { labels: { zone: 'west' } }), makeNode('d')]
    const r = place(nodes, makeTasks('t', 6, spec({ placement: { preferences: [{ spread: { spreadDescriptor: 'node.labels.zone' } }] } })))
    expect(perNode(r)).toEqual({ a: 1, b: 1, c: 2, d: 2 })
  })

  it('one level: existing tasks count, so new tasks even out the branch totals', () => {
    const s = spec({ placement: { preferences: [{ spread: { spreadDescriptor: 'engine.labels.dc' } }] } })
    const nodes = [makeNode('a', { engineLabels: { dc: '1' } }), makeNode('b', { engineLabels: { dc: '2' } })]
    const r = place(nodes, makeTasks('t', 4, s), [runningOn('x1', 'a', s), runningOn('x2', 'a', s)])
    expect(perNode(r)).toEqual({ a: 1, b: 3 })
  })

  it('two levels: even per zone, then even per rack within each zone', () => {
    const nodes = [
      makeNode('a', { labels: { zone: 'east', rack: '1' } }),
      makeNode('b', { labels: { zone: 'east', rack: '2' } }),
      makeNode('c', { labels: { zone: 'east', rack: '2' } }),
      makeNode('d', { labels: { zone: 'west', rack: '1' } }),
    ]
    const prefs = [{ spread: { spreadDescriptor: 'node.labels.zone' } }, { spread: { spreadDescriptor: 'node.labels.rack' } }]
    const r = place(nodes, makeTasks('t', 8, spec({ placement: { preferences: prefs } })))
    expect(perNode(r)).toEqual({ a: 2, b: 1, c: 1, d: 4 })
  })

  it('a branch whose nodes are full leaves the rest to the other branches', () => {
    const s = spec({ placement: { maxReplicas: 1, preferences: [{ spread: { spreadDescriptor: 'node.labels.zone' } }] } })
    const nodes = [makeNode('a', { labels: { zone: 'east' } }), makeNode('b', { labels: { zone: 'west' } }), makeNode('c', { labels: { zone: 'west' } })]
    expect(perNode(place(nodes, makeTasks('t', 3, s)))).toEqual({ a: 1, b: 1, c: 1 })
  })
})

describe('scheduler placement: binpack', () => {
  it('fills the node with the least free resources that still fits', () => {
    const s = spec({ resources: { reservations: { memoryBytes: 1 * GB } } })
    const nodes = [makeNode('a', { resources: { memoryBytes: 8 * GB } }), makeNode('b', { resources: { memoryBytes: 3 * GB } }), makeNode('c', { resources: { memoryBytes: 4 * GB } })]
    const r = place(nodes, makeTasks('t', 5, s), [], 'binpack')
    expect(r.placed.map((p) => p.nodeId)).toEqual(['b', 'b', 'b', 'c', 'c'])
  })

  it('without reservations, piles tasks on the node with the most tasks', () => {
    const nodes = [makeNode('a'), makeNode('b'), makeNode('c')]
    const r = place(nodes, makeTasks('t', 4), [runningOn('x', 'b', { serviceId: 'other' })], 'binpack')
    expect(perNode(r)).toEqual({ b: 4 })
  })

  it('spread is different: the same tasks go to the emptiest nodes', () => {
    const s = spec({ resources: { reservations: { memoryBytes: 1 * GB } } })
    const nodes = [makeNode('a', { resources: { memoryBytes: 8 * GB } }), makeNode('b', { resources: { memoryBytes: 3 * GB } }), makeNode('c', { resources: { memoryBytes: 4 * GB } })]
    expect(perNode(place(nodes, makeTasks('t', 6, s)))).toEqual({ a: 2, b: 2, c: 2 })
  })
})

describe('scheduler NodeSet', () => {
  it('tracks holdings from task updates: ASSIGNED..RUNNING hold, a stopped task releases, a removed node forgets its tasks', () => {
    const s = { spec: { container: { image: 'busybox' }, resources: { reservations: { nanoCpus: 1e9 } } } }
    const set = NodeSet.from([makeNode('a', { resources: { nanoCpus: 4e9 } })], [makeTask('p', s)])
    expect(set.get('a')?.availableNanoCpus).toBe(4e9)
    set.applyTask(makeTask('t', { ...s, nodeId: 'a', state: TaskState.ASSIGNED }))
    set.applyTask(makeTask('u', { ...s, nodeId: 'a', state: TaskState.RUNNING, desiredState: TaskState.SHUTDOWN }))
    expect([set.get('a')?.availableNanoCpus, set.get('a')?.activeTasks, set.get('a')?.serviceTasks('svc')]).toEqual([2e9, 1, 1])
    set.applyTask(makeTask('t', { ...s, nodeId: 'a', state: TaskState.FAILED }))
    expect([set.get('a')?.availableNanoCpus, set.get('a')?.activeTasks, set.nodeOf('t')]).toEqual([3e9, 0, undefined])
    set.removeNode('a')
    expect([set.get('a'), set.nodeOf('u'), set.size]).toEqual([undefined, undefined, 0])
  })

  it('a status update of a holding task keeps its holding as it is; a change of what it takes replaces it', () => {
    const s = { spec: { container: { image: 'busybox' }, resources: { reservations: { nanoCpus: 1e9 } } }, hostPorts: [8080] }
    const gpu = [{ kind: 'GPU', namedValue: 'gpu1' }]
    const set = NodeSet.from([makeNode('a', { resources: { nanoCpus: 4e9, generic: [{ kind: 'GPU', namedValue: 'gpu0' }, { kind: 'GPU', namedValue: 'gpu1' }] } })], [])
    const a = (): unknown[] => [set.get('a')?.availableNanoCpus, set.get('a')?.activeTasks, set.get('a')?.availableNamed.get('GPU'), set.get('a')?.hostPorts.get('tcp/8080')]
    set.applyTask({ ...makeTask('t', { ...s, nodeId: 'a', state: TaskState.ASSIGNED }), assignedGenericResources: gpu })
    expect(a()).toEqual([3e9, 1, ['gpu0'], 1])
    expect(set.get('a')?.holdsSame({ ...makeTask('t', { ...s, nodeId: 'a', state: TaskState.RUNNING }), assignedGenericResources: gpu }, gpu)).toBe(true)
    for (const state of [TaskState.ACCEPTED, TaskState.PREPARING, TaskState.RUNNING]) {
      set.applyTask({ ...makeTask('t', { ...s, nodeId: 'a', state }), assignedGenericResources: [{ kind: 'GPU', namedValue: 'gpu1' }] })
      expect(a()).toEqual([3e9, 1, ['gpu0'], 1])
    }
    // Desired SHUTDOWN: still held, no longer active.
    const stopping = { ...makeTask('t', { ...s, nodeId: 'a', state: TaskState.RUNNING, desiredState: TaskState.SHUTDOWN }), assignedGenericResources: gpu }
    expect(set.get('a')?.holdsSame(stopping, gpu)).toBe(false)
    set.applyTask(stopping)
    expect(a()).toEqual([3e9, 0, ['gpu0'], 1])
    // Other reservations, other generic resources or other ports: not the same holding.
    const other = makeTask('t', { spec: { container: { image: 'busybox' }, resources: { reservations: { nanoCpus: 2e9 } } }, nodeId: 'a', state: TaskState.RUNNING, desiredState: TaskState.SHUTDOWN })
    expect(set.get('a')?.holdsSame(other, gpu)).toBe(false)
    expect(set.get('a')?.holdsSame(stopping, [{ kind: 'GPU', namedValue: 'gpu0' }])).toBe(false)
    expect(set.get('a')?.holdsSame({ ...stopping, endpoint: { ports: [] } }, gpu)).toBe(false)
    set.applyTask({ ...other, assignedGenericResources: [{ kind: 'GPU', namedValue: 'gpu0' }] })
    expect(a()).toEqual([2e9, 0, ['gpu1'], undefined])
  })

  it('a node update keeps what its tasks hold', () => {
    const s = { spec: { container: { image: 'busybox' }, resources: { reservations: { memoryBytes: 1 * GB } } } }
    const set = NodeSet.from([makeNode('a', { resources: { memoryBytes: 2 * GB } })], [runningOn('t', 'a', s)])
    set.updateNode(makeNode('a', { resources: { memoryBytes: 3 * GB } }))
    expect([set.get('a')?.availableMemoryBytes, set.get('a')?.activeTasks]).toEqual([2 * GB, 1])
  })
})
