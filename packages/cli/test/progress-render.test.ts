import { TaskState, UpdateState } from '@swarmkit-ts/api'
import type { ServiceProgress } from '@swarmkit-ts/core'
import { describe, expect, it } from 'vitest'
import { ConvergeTracker, PlainScreen, TtyScreen, drawBar, truncError } from '../src/progress/index.ts'
import type { ProgressOutcome, ProgressScreen } from '../src/progress/index.ts'
import { FULL, VirtualTerminal, snapshot } from './progress-fixtures.ts'

const { NEW, PENDING, ASSIGNED, PREPARING, STARTING, RUNNING, SHUTDOWN, FAILED } = TaskState

/** Runs `steps` (`[time, snapshot?]`) through a tracker and a screen; the output and the outcome. */
function play(screen: ProgressScreen, steps: readonly (readonly [number, ServiceProgress?])[], monitorMs = 5000): { out: string; outcome?: ProgressOutcome; wakeAtMs?: number } {
  const tracker = new ConvergeTracker({ monitorMs })
  let out = ''
  let outcome: ProgressOutcome | undefined
  let wakeAtMs: number | undefined
  for (const [t, p] of steps) {
    const step = tracker.step(t, p)
    out += screen.render(step.writes)
    outcome = step.outcome
    wakeAtMs = step.wakeAtMs
  }
  return { out, ...(outcome === undefined ? {} : { outcome }), ...(wakeAtMs === undefined ? {} : { wakeAtMs }) }
}

/** The screen a terminal shows after `out`. */
function screenOf(out: string): string[] {
  const term = new VirtualTerminal()
  term.write(out)
  return term.screen()
}

const create3: readonly (readonly [number, ServiceProgress?])[] = [
  [0, snapshot({ desired: 3, slots: [] })],
  [100, snapshot({ desired: 3, slots: [[1, NEW], [2, PENDING], [3, ASSIGNED]] })],
  [200, snapshot({ desired: 3, slots: [[1, RUNNING], [2, PREPARING], [3, STARTING]] })],
  [300, snapshot({ desired: 3, slots: [[1, RUNNING], [2, RUNNING], [3, RUNNING]] })],
]

describe('bars and errors', () => {
  it('draws Docker’s 50-column bar for each state step out of 9', () => {
    expect(drawBar({ current: 1, total: 9 })).toBe(`[=====>${' '.repeat(45)}]`)
    expect(drawBar({ current: 6, total: 9 })).toBe(`[${'='.repeat(33)}>${' '.repeat(17)}]`)
    expect(drawBar({ current: 9, total: 9 })).toBe(FULL)
  })

  it('truncates a task error to 75 characters on one line', () => {
    expect(truncError('no such image\nbusybox')).toBe('no such image busybox')
    expect(truncError('x'.repeat(80))).toBe(`${'x'.repeat(74)}…`)
    expect(truncError('y'.repeat(75))).toBe('y'.repeat(75))
  })
})

describe('ConvergeTracker on a terminal', () => {
  it('draws each frame of a 3-replica create in place', () => {
    const frames: string[][] = []
    const tracker = new ConvergeTracker({ monitorMs: 5000 })
    const screen = new TtyScreen()
    const term = new VirtualTerminal()
    for (const [t, p] of create3) {
      term.write(screen.render(tracker.step(t, p).writes))
      frames.push(term.screen())
    }
    expect(frames).toEqual([
      ['overall progress: 0 out of 3 tasks', '1/3:', '2/3:', '3/3:'],
      [
        'overall progress: 0 out of 3 tasks',
        `1/3: new       [=====>${' '.repeat(45)}]`,
        `2/3: pending   [================>${' '.repeat(34)}]`,
        `3/3: assigned  [======================>${' '.repeat(28)}]`,
      ],
      [
        'overall progress: 1 out of 3 tasks',
        `1/3: running   ${FULL}`,
        `2/3: preparing [=================================>${' '.repeat(17)}]`,
        `3/3: starting  [============================================>${' '.repeat(6)}]`,
      ],
      [
        'overall progress: 3 out of 3 tasks',
        `1/3: running   ${FULL}`,
        `2/3: running   ${FULL}`,
        `3/3: running   ${FULL}`,
        'verify: Waiting 5 seconds to verify that tasks are stable...',
      ],
    ])
  })

  it('counts the verify wait down, then says the service converged', () => {
    const screen = new TtyScreen()
    const tracker = new ConvergeTracker({ monitorMs: 5000 })
    let out = ''
    const wakes: (number | undefined)[] = []
    for (const [t, p] of create3) out += screen.render(tracker.step(t, p).writes)
    for (const t of [1300, 2300, 3300, 4300, 5300]) {
      const step = tracker.step(t)
      out += screen.render(step.writes)
      wakes.push(step.wakeAtMs)
      if (t === 3300) expect(screenOf(out).at(-1)).toBe('verify: Waiting 2 seconds to verify that tasks are stable...')
      if (t === 5300) expect(step.outcome).toEqual({ kind: 'converged' })
    }
    expect(wakes).toEqual([2300, 3300, 4300, 5300, undefined])
    expect(screenOf(out)).toEqual([
      'overall progress: 3 out of 3 tasks',
      `1/3: running   ${FULL}`,
      `2/3: running   ${FULL}`,
      `3/3: running   ${FULL}`,
      'verify: Service svc1 converged',
    ])
  })

  it('writes only the changed lines, with cursor moves (exact bytes)', () => {
    const screen = new TtyScreen()
    const tracker = new ConvergeTracker({ monitorMs: 5000 })
    screen.render(tracker.step(0, snapshot({ desired: 1, slots: [] })).writes)
    const out = screen.render(tracker.step(1, snapshot({ desired: 1, slots: [[1, RUNNING]] })).writes)
    expect(out).toBe(
      `\u001b[1A\r\u001b[2K1/1: running   ${FULL}\r\u001b[1B` +
        '\u001b[2A\r\u001b[2Koverall progress: 1 out of 1 tasks\r\u001b[2B' +
        'verify: Waiting 5 seconds to verify that tasks are stable...\n',
    )
  })

  it('shows a task error in place of the bar, and a failure during the verify wait', () => {
    const { out } = play(new TtyScreen(), [
      [0, snapshot({ desired: 2, slots: [[1, RUNNING], [2, RUNNING]] })],
      [1000, snapshot({ desired: 2, slots: [[1, RUNNING], [2, FAILED, { err: 'task: non-zero exit (1)' }]] })],
    ])
    expect(screenOf(out)).toEqual([
      'overall progress: 1 out of 2 tasks',
      `1/2: running   ${FULL}`,
      '2/2: task: non-zero exit (1)',
      'verify: Detected task failure',
    ])
    const more = play(new TtyScreen(), [
      [0, snapshot({ desired: 2, slots: [[1, RUNNING], [2, FAILED, { err: 'task: non-zero exit (1)' }]] })],
    ])
    expect(screenOf(more.out)).toEqual(['overall progress: 1 out of 2 tasks', `1/2: running   ${FULL}`, '2/2: task: non-zero exit (1)'])
  })

  it('draws no slot bars above 20 replicas', () => {
    const slots = Array.from({ length: 21 }, (_, i) => [i + 1, RUNNING] as const)
    const { out } = play(new TtyScreen(), [[0, snapshot({ desired: 21, slots: slots.slice(0, 20) })], [10, snapshot({ desired: 21, slots })]])
    expect(screenOf(out)).toEqual(['overall progress: 21 out of 21 tasks', 'verify: Waiting 5 seconds to verify that tasks are stable...'])
  })

  it('draws a global service per node (the node id cut to 12 characters)', () => {
    const global = (a: TaskState, b: TaskState): ServiceProgress =>
      snapshot({ mode: 'global', desired: 2, slots: [['aaaaaaaaaaaaaaaaaaaaaaaaa', a], ['bbbbbbbbbbbbbbbbbbbbbbbbb', b]] })
    const { out } = play(new TtyScreen(), [
      [0, snapshot({ mode: 'global', desired: 0, slots: [] })],
      [10, global(PREPARING, NEW)],
      [20, global(RUNNING, RUNNING)],
    ])
    expect(screenOf(out)).toEqual([
      'overall progress: 2 out of 2 tasks',
      `aaaaaaaaaaaa: running   ${FULL}`,
      `bbbbbbbbbbbb: running   ${FULL}`,
      'verify: Waiting 5 seconds to verify that tasks are stable...',
    ])
    const waiting = play(new PlainScreen(), [[0, snapshot({ mode: 'global', desired: 0, slots: [] })]])
    expect(waiting.out).toBe('overall progress: waiting for new tasks\n')
  })
})

describe('terminal width and jobs', () => {
  it('cuts lines to the terminal width so none wraps', () => {
    const screen = new TtyScreen({ columns: 40 })
    const tracker = new ConvergeTracker({ monitorMs: 5000 })
    const term = new VirtualTerminal()
    for (const [t, p] of create3) term.write(screen.render(tracker.step(t, p).writes))
    expect(term.screen()).toEqual([
      'overall progress: 3 out of 3 tasks',
      '1/3: running   [========================',
      '2/3: running   [========================',
      '3/3: running   [========================',
      'verify: Waiting 5 seconds to verify that',
    ])
  })

  it('ends a job with "job complete", without the verify wait', () => {
    const job = (a: TaskState, b: TaskState): ServiceProgress => snapshot({ mode: 'replicatedJob', desired: 2, slots: [[1, a], [2, b]] })
    const { out, outcome, wakeAtMs } = play(new PlainScreen(), [
      [0, job(RUNNING, STARTING)],
      [10, job(TaskState.COMPLETE, TaskState.COMPLETE)],
    ])
    expect(out.split('\n')).toEqual(['overall progress: 0 out of 2 tasks', '1/2: running', '2/2: starting', 'overall progress: 2 out of 2 tasks', 'job complete', ''])
    expect(outcome).toEqual({ kind: 'converged' })
    expect(wakeAtMs).toBeUndefined()
  })
})

describe('ConvergeTracker in plain mode', () => {
  it('prints a line per change, in order', () => {
    const { out } = play(new PlainScreen(), [...create3, [5300]])
    expect(out.split('\n')).toEqual([
      'overall progress: 0 out of 3 tasks',
      '1/3: new',
      '2/3: pending',
      '3/3: assigned',
      '1/3: running',
      '2/3: preparing',
      '3/3: starting',
      'overall progress: 1 out of 3 tasks',
      '2/3: running',
      '3/3: running',
      'overall progress: 3 out of 3 tasks',
      'verify: Waiting 5 seconds to verify that tasks are stable...',
      'verify: Service svc1 converged',
      '',
    ])
  })
})

describe('rollbacks and pauses', () => {
  const v1 = { upToDate: false } as const
  it('an update rolled back after a failure: the rollback line, "rolling back update", the final message', () => {
    const reason = 'update rolled back due to failure or early termination of task task2'
    const { out, outcome } = play(
      new PlainScreen(),
      [
        [0, snapshot({ desired: 2, slots: [[1, RUNNING, v1], [2, RUNNING, v1]], update: [UpdateState.UPDATING, 'update in progress'] })],
        [10, snapshot({ desired: 2, slots: [[1, RUNNING], [2, RUNNING, v1]], update: [UpdateState.UPDATING, 'update in progress'] })],
        [20, snapshot({ desired: 2, slots: [[1, RUNNING], [2, FAILED, { err: 'task: non-zero exit (1)' }]], update: [UpdateState.UPDATING] })],
        // The previous spec is the service's again: the old tasks are up to date.
        [30, snapshot({ desired: 2, slots: [[1, SHUTDOWN, { upToDate: false, desired: SHUTDOWN }], [2, PENDING]], update: [UpdateState.ROLLBACK_STARTED, reason] })],
        [40, snapshot({ desired: 2, slots: [[1, RUNNING], [2, RUNNING]], update: [UpdateState.ROLLBACK_COMPLETED, 'rollback completed'] })],
        [1040],
      ],
      1000,
    )
    expect(out.split('\n')).toEqual([
      'overall progress: 0 out of 2 tasks',
      '1/2: running',
      'overall progress: 1 out of 2 tasks',
      '2/2: task: non-zero exit (1)',
      `rollback: ${reason}`,
      '2/2: pending',
      'overall progress: rolling back update: 0 out of 2 tasks',
      '2/2: running',
      'overall progress: rolling back update: 2 out of 2 tasks',
      'verify: Waiting 1 seconds to verify that tasks are stable...',
      'verify: Service svc1 converged',
      'rollback: rollback completed',
      '',
    ])
    expect(outcome).toEqual({ kind: 'converged', rollback: reason })
  })

  it('a manual rollback says so', () => {
    const { out, outcome } = play(
      new TtyScreen(),
      [
        [0, snapshot({ desired: 1, slots: [[1, RUNNING, v1]], update: [UpdateState.ROLLBACK_STARTED, 'manually requested rollback'] })],
        [10, snapshot({ desired: 1, slots: [[1, RUNNING]], update: [UpdateState.ROLLBACK_COMPLETED, 'rollback completed'] })],
        [1010],
      ],
      1000,
    )
    expect(screenOf(out)).toEqual([
      'rollback: manually requested rollback',
      'overall progress: rolling back update: 1 out of 1 tasks',
      `1/1: running   ${FULL}`,
      'verify: Service svc1 converged',
      'rollback: rollback completed',
    ])
    expect(outcome).toEqual({ kind: 'converged', rollback: 'manually requested rollback' })
  })

  it('a rollback whose tasks converge before the updater marks it completed waits for ROLLBACK_COMPLETED, then says so', () => {
    const tracker = new ConvergeTracker({ monitorMs: 100 })
    const started = snapshot({ desired: 1, slots: [[1, RUNNING]], update: [UpdateState.ROLLBACK_STARTED, 'manually requested rollback'] })
    expect(tracker.step(0, started)).toEqual({ writes: expect.any(Array) as unknown, wakeAtMs: 100 })
    // The monitor is over but the updater still runs: no end, and no wake-up until its next status.
    expect(tracker.step(100)).toEqual({ writes: [] })
    const screen = new PlainScreen()
    const done = tracker.step(500, snapshot({ desired: 1, slots: [[1, RUNNING]], update: [UpdateState.ROLLBACK_COMPLETED, 'rollback completed'] }))
    expect(screen.render(done.writes).trimEnd().split('\n').slice(-2)).toEqual(['verify: Service svc1 converged', 'rollback: rollback completed'])
    expect(done.outcome).toEqual({ kind: 'converged', rollback: 'manually requested rollback' })
  })

  it('ends when the update or the rollback pauses, or the service is removed', () => {
    const paused = play(new PlainScreen(), [
      [0, snapshot({ desired: 1, slots: [[1, RUNNING, v1]], update: [UpdateState.PAUSED, 'update paused due to failure or early termination of task task1'] })],
    ])
    expect(paused).toEqual({ out: '', outcome: { kind: 'paused', message: 'service update paused: update paused due to failure or early termination of task task1' } })
    const rbPaused = play(new PlainScreen(), [[0, snapshot({ desired: 1, slots: [], update: [UpdateState.ROLLBACK_PAUSED, 'rollback paused'] })]])
    expect(rbPaused.outcome).toEqual({ kind: 'paused', message: 'service rollback paused: rollback paused' })
    const removed = play(new PlainScreen(), [[0, snapshot({ desired: 0, slots: [], deleted: true })]])
    expect(removed.outcome).toEqual({ kind: 'removed' })
  })
})
