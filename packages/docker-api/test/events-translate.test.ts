import { describe, expect, it } from 'vitest'
import { TaskState, type Service, type Task } from '@swarmkit-ts/api'
import type { ObjectEvent } from '@swarmkit-ts/store'
import { dockerEventJson, dockerEvents, taskEvents, type DockerEvent } from '../src/translate/event.ts'
import { matchEvent, parseEventFilters, parseEventTime } from '../src/translate/event-filter.ts'
import { EventHistory } from '../src/translate/event-history.ts'
import { DockerApiError } from '../src/errors.ts'

const T0 = 1_796_619_600_123 // 2026-12-07T05:00:00.123Z, ms

function service(replicas: number, image: string, updatedAt = T0): Service {
  return {
    id: 'svc0000000000000000000001',
    meta: { version: { index: 7n }, createdAt: T0, updatedAt },
    spec: { annotations: { name: 'web' }, mode: { replicated: { replicas } }, task: { container: { image } } },
  }
}

function task(state: TaskState, patch: Partial<Task> = {}): Task {
  return {
    id: 'tsk0000000000000000000001',
    meta: { version: { index: 9n }, createdAt: T0, updatedAt: T0 },
    spec: { container: { image: 'busybox:1.36', labels: { tier: 'front' } } },
    serviceId: 'svc0000000000000000000001',
    slot: 2,
    nodeId: 'node000000000000000000001',
    annotations: { name: '' },
    serviceAnnotations: { name: 'web' },
    status: { timestamp: T0 + 5, state },
    desiredState: TaskState.RUNNING,
    ...patch,
  }
}

const upd = (oldObject: Task, object: Task): ObjectEvent<'task'> => ({ action: 'update', kind: 'task', object, oldObject })
const actions = (evs: readonly DockerEvent[]): string[] => evs.map((e) => e.Action)

describe('Docker event messages', () => {
  it('writes a swarm event as dockerd does: fields in Go order, time in seconds and the exact nanosecond time', () => {
    const [ev] = dockerEvents({ action: 'create', kind: 'service', object: service(1, 'busybox') }, 0)
    expect(ev).toBeDefined()
    expect(dockerEventJson(ev as DockerEvent)).toBe(
      '{"Type":"service","Action":"create","Actor":{"ID":"svc0000000000000000000001","Attributes":{"name":"web"}},"scope":"swarm","time":1796619600,"timeNano":1796619600123000000}',
    )
  })

  it('names the attributes a service update changed (image, replicas, update state), and stamps it with UpdatedAt', () => {
    const old = service(1, 'busybox:1')
    const now: Service = { ...service(3, 'busybox:2', T0 + 1000), updateStatus: { state: 'updating' } }
    const [ev] = dockerEvents({ action: 'update', kind: 'service', object: now, oldObject: old }, 0)
    expect(ev?.Actor.Attributes).toEqual({ name: 'web', 'image.old': 'busybox:1', 'image.new': 'busybox:2', 'replicas.old': '1', 'replicas.new': '3', 'updatestate.new': 'updating' })
    expect(ev?.timeNano).toBe(1_796_619_601_123_000_000n)
  })

  it('reports a removal as remove, at the time it is seen (the store keeps none)', () => {
    const [ev] = dockerEvents({ action: 'delete', kind: 'service', object: service(1, 'busybox') }, T0 + 60_000)
    expect([ev?.Action, ev?.timeNano]).toEqual(['remove', 1_796_619_660_123_000_000n])
  })

  it("reports a task's life as its container's: create at READY, start at RUNNING, die with the exit code then stop when asked to end", () => {
    expect(actions(taskEvents(upd(task(TaskState.PREPARING), task(TaskState.READY)), 0))).toEqual(['create'])
    expect(actions(taskEvents(upd(task(TaskState.READY), task(TaskState.RUNNING)), 0))).toEqual(['start'])
    expect(actions(taskEvents(upd(task(TaskState.ASSIGNED), task(TaskState.RUNNING)), 0))).toEqual(['create', 'start'])
    const stopped = task(TaskState.SHUTDOWN, { desiredState: TaskState.SHUTDOWN, status: { timestamp: T0, state: TaskState.SHUTDOWN, containerStatus: { exitCode: 143 } } })
    const evs = taskEvents(upd(task(TaskState.RUNNING), stopped), 0)
    expect(actions(evs)).toEqual(['die', 'stop'])
    expect(evs[0]?.Actor.Attributes['exitCode']).toBe('143')
    expect(actions(taskEvents(upd(task(TaskState.RUNNING), task(TaskState.COMPLETE)), 0))).toEqual(['die'])
  })

  it('reports nothing for a task that ended without running, or did not move forward', () => {
    expect(taskEvents(upd(task(TaskState.PREPARING), task(TaskState.REJECTED)), 0)).toEqual([])
    expect(taskEvents(upd(task(TaskState.RUNNING), task(TaskState.RUNNING, { desiredState: TaskState.SHUTDOWN })), 0)).toEqual([])
    expect(taskEvents({ action: 'delete', kind: 'task', object: task(TaskState.PENDING) }, 0)).toEqual([])
  })

  it('gives container events the legacy fields, the swarm labels and the task name', () => {
    const running = task(TaskState.RUNNING, { status: { timestamp: T0 + 5, state: TaskState.RUNNING, containerStatus: { containerId: 'c0ffee' } } })
    const [ev] = taskEvents(upd(task(TaskState.READY), running), 0)
    expect(JSON.parse(dockerEventJson(ev as DockerEvent))).toEqual({
      status: 'start',
      id: 'c0ffee',
      from: 'busybox:1.36',
      Type: 'container',
      Action: 'start',
      Actor: {
        ID: 'c0ffee',
        Attributes: {
          tier: 'front',
          'com.docker.swarm.node.id': 'node000000000000000000001',
          'com.docker.swarm.service.id': 'svc0000000000000000000001',
          'com.docker.swarm.service.name': 'web',
          'com.docker.swarm.task': '',
          'com.docker.swarm.task.id': 'tsk0000000000000000000001',
          'com.docker.swarm.task.name': 'web.2.tsk0000000000000000000001',
          image: 'busybox:1.36',
          name: 'web.2.tsk0000000000000000000001',
        },
      },
      scope: 'local',
      time: 1796619600,
      timeNano: 1796619600128000000,
    })
  })

  it("reports a classic container's task under the container's ID and name, and no service events for it", () => {
    const classic = { name: 'db', labels: { 'com.swarmkit-ts.classic.container': 'true' } }
    const [ev] = taskEvents(upd(task(TaskState.READY, { serviceAnnotations: classic }), task(TaskState.RUNNING, { serviceAnnotations: classic })), 0)
    expect([ev?.Action, ev?.Actor.ID, ev?.id, ev?.Actor.Attributes['name']]).toEqual(['start', 'svc0000000000000000000001', 'svc0000000000000000000001', 'db'])
    const svc = service(1, 'busybox')
    expect(dockerEvents({ action: 'create', kind: 'service', object: { ...svc, spec: { ...svc.spec, annotations: classic } } }, 0)).toEqual([])
  })
})

describe('the query of /events', () => {
  it('reads since and until as the CLI sends them: seconds with an optional fraction of up to nine digits', () => {
    expect(parseEventTime('since', '1796619600')).toBe(1_796_619_600_000_000_000n)
    expect(parseEventTime('since', '1796619600.5')).toBe(1_796_619_600_500_000_000n)
    expect(parseEventTime('until', '1796619600.000000123')).toBe(1_796_619_600_000_000_123n)
    expect(parseEventTime('since', '')).toBeUndefined()
    expect(() => parseEventTime('until', '10m')).toThrow(new DockerApiError(400, 'invalid until time "10m": must be Unix seconds with an optional fraction (e.g. 1700000000.123456789)'))
  })

  const ev = (Type: DockerEvent['Type'], Action: string, name: string, extra: Record<string, string> = {}): DockerEvent => ({
    Type,
    Action,
    Actor: { ID: `${name}-id`, Attributes: { name, ...extra } },
    scope: Type === 'container' ? 'local' : 'swarm',
    timeNano: 0n,
  })
  const pass = (filters: Record<string, string[]>, e: DockerEvent): boolean => matchEvent(parseEventFilters(JSON.stringify(filters)), e)

  it('matches filters as dockerd: type, event and scope exactly, object names and IDs by prefix, labels on attributes', () => {
    expect(pass({ type: ['service'] }, ev('service', 'create', 'web'))).toBe(true)
    expect(pass({ type: ['service'] }, ev('node', 'update', 'm1'))).toBe(false)
    expect(pass({ type: ['service', 'secret'], event: ['remove'] }, ev('secret', 'remove', 'pw'))).toBe(true)
    expect(pass({ event: ['remove'] }, ev('secret', 'create', 'pw'))).toBe(false)
    expect(pass({ service: ['we'] }, ev('service', 'create', 'web'))).toBe(true)
    expect(pass({ service: ['web-id'] }, ev('service', 'create', 'web'))).toBe(true)
    expect(pass({ service: ['api'] }, ev('service', 'create', 'web'))).toBe(false)
    expect(pass({ scope: ['swarm'] }, ev('container', 'start', 'web.1.x'))).toBe(false)
    expect(pass({ image: ['busybox'] }, ev('container', 'start', 'web.1.x', { image: 'busybox:1.36' }))).toBe(true)
    expect(pass({ label: ['tier=front'] }, ev('container', 'start', 'web.1.x', { tier: 'front' }))).toBe(true)
    expect(pass({ label: ['tier=back'] }, ev('container', 'start', 'web.1.x', { tier: 'front' }))).toBe(false)
  })

  it("refuses a filter dockerd does not know, in Docker's words", () => {
    expect(() => parseEventFilters('{"colour":{"red":true}}')).toThrow(new DockerApiError(400, "invalid filter 'colour'"))
  })
})

describe('the event history', () => {
  const at = (n: number): DockerEvent => ({ Type: 'secret', Action: 'create', Actor: { ID: `s${n}`, Attributes: { name: `s${n}` } }, scope: 'swarm', timeNano: BigInt(n) })

  it('keeps the latest events up to its limit, in order, and answers a since/until window (bounds included)', () => {
    const h = new EventHistory(3)
    for (let n = 1; n <= 5; n++) h.publish(at(n))
    expect(h.recorded(0n, undefined, () => true).map((e) => e.timeNano)).toEqual([3n, 4n, 5n])
    expect(h.recorded(4n, 4n, () => true).map((e) => e.timeNano)).toEqual([4n])
    expect(h.recorded(undefined, undefined, () => true)).toEqual([])
  })

  it('hands new events to subscribers until they unsubscribe', () => {
    const h = new EventHistory()
    const seen: bigint[] = []
    const off = h.subscribe((e) => seen.push(e.timeNano))
    h.publish(at(1))
    off()
    h.publish(at(2))
    expect([seen, h.listeners]).toEqual([[1n], 0])
  })
})
