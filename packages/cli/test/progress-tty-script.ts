/**
 * Run by progress-tty.test.ts inside tmux: draws a scripted 3-replica create through the TTY
 * path (ConvergeTracker and TtyScreen on the real terminal's stdout), one frame at a time.
 * Exits 3 when stdout is not a terminal. With the argument `plain`, draws through the plain
 * screen instead (the control case: every change stays on screen).
 */
import { TaskState } from '@swarmkit-ts/api'
import type { ServiceProgress } from '@swarmkit-ts/core'
import { PlainScreen, TtyScreen } from '../src/progress/screen.ts'
import { ConvergeTracker } from '../src/progress/tracker.ts'
import { snapshot } from './progress-fixtures.ts'

const { NEW, PENDING, PREPARING, STARTING, RUNNING, FAILED } = TaskState

/** `[clock ms, snapshot]`; a step without a snapshot is a tick of the verify countdown. */
const SCRIPT: readonly (readonly [number, ServiceProgress?])[] = [
  [0, snapshot({ desired: 3, slots: [] })],
  [100, snapshot({ desired: 3, slots: [[1, NEW], [2, NEW], [3, PENDING]] })],
  [200, snapshot({ desired: 3, slots: [[1, PREPARING], [2, FAILED, { err: 'starting container failed: no such file\nor directory' }], [3, STARTING]] })],
  [300, snapshot({ desired: 3, slots: [[1, RUNNING], [2, NEW], [3, RUNNING]] })],
  [400, snapshot({ desired: 3, slots: [[1, RUNNING], [2, RUNNING], [3, RUNNING]] })],
  [1400],
  [2400],
  [2500],
]

if (process.stdout.isTTY !== true) process.exit(3)
const tracker = new ConvergeTracker({ monitorMs: 2100 })
const screen = process.argv[2] === 'plain' ? new PlainScreen() : new TtyScreen()
for (const [t, p] of SCRIPT) {
  process.stdout.write(screen.render(tracker.step(t, p).writes))
  await new Promise((resolve) => setTimeout(resolve, 30))
}
