// The README demo (run by scripts/demo.sh, which installs and builds first): 3 managers and 2
// workers on localhost, each a `swarmkit node start` process on the `process` runtime; a web
// service published through the routing mesh of every manager (127.0.0.1, 127.0.0.2 and
// 127.0.0.3, one port: Linux's loopback answers on all of 127/8); scale, a rolling update, the
// leader killed with SIGKILL and the cluster recovering; then it waits for Ctrl-C. With `--ci`
// (or DEMO_CI=1) it runs the same steps, checks each, and exits: 0 when all passed, 1 naming the
// failed step. Either way every process it started is stopped and its state removed.
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ProcessRuntime } from '@swarmkit-ts/engine-adapter'
import { Cli, NodeProcess, StepError, check, freePortOn, httpGet, until } from './lib.mjs'

const ci = process.argv.includes('--ci') || process.env.DEMO_CI === '1'
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js')
const web = join(root, 'examples', 'demo', 'web.mjs')
const out = process.stdout
const cli = new Cli(bin, out)
/**
 * Raft ticks of 100 ms, an election after 2 s without a leader, a 2 s dispatcher heartbeat (a
 * dead node is DOWN after about 6 s): fast, with margin on a busy machine.
 */
const TIMING = ['--raft-tick-ms', '100', '--election-tick', '20', '--heartbeat-tick', '1', '--heartbeat-period-ms', '2000']
/** `TaskState.RUNNING` of @swarmkit-ts/api (task states are numbers in `--format json`). */
const TASK_RUNNING = 512
const MESH = { m1: '127.0.0.1', m2: '127.0.0.2', m3: '127.0.0.3' }

let stateRoot
/** The nodes by name. */
const nodes = new Map()
let step = { n: 0, title: 'setup' }

function heading(n, title) {
  step = { n, title }
  out.write(`\n\x1b[1m== ${n}. ${title}\x1b[0m\n`)
}

const note = (text) => out.write(`# ${text}\n`)
const sock = (name) => join(stateRoot, name, 'control.sock')
const host = (name) => ['-H', `unix://${sock(name)}`]

/** Starts nodes `names` together (each command printed, as typed with `&`), then prints their reports in order. */
async function startNodes(names, args, reportLines) {
  const started = names.map((name) => {
    const full = [...args, '--state-dir', join(stateRoot, name), '--hostname', name, ...(name in MESH ? ['--mesh-addr', MESH[name]] : []), ...TIMING]
    out.write(`$ swarmkit node start ${full.join(' ')} &\n`)
    const node = new NodeProcess(bin, name, full, join(stateRoot, `${name}${nodes.has(name) ? '-restarted' : ''}.log`))
    nodes.set(name, node)
    return node
  })
  const reports = await Promise.all(started.map((node) => node.report(reportLines)))
  for (const line of reports.flat()) out.write(`${line.replace(/(SWMTKN-1-\S{20})\S+/g, '$1…')}\n`)
  return reports.flat()
}

/** Starts node `name` and prints its command and report. */
const startNode = (name, args, reportLines) => startNodes([name], args, reportLines)

/** `node ls` through `via` as objects. */
const nodeList = (via) => cli.json([...host(via), 'node', 'ls'])
/** The running tasks of `web` through `via`. */
async function runningTasks(via) {
  const tasks = await cli.json([...host(via), 'service', 'ps', 'web', '-f', 'desired-state=running'])
  return tasks === undefined ? undefined : tasks.filter((t) => t.status.state === TASK_RUNNING)
}

/**
 * Requests through the meshes of `managers` until `accept` takes the answers of one round
 * (`perMesh` requests per mesh), then prints that round as the `curl` loops that would show it:
 * which task answered, through which manager's mesh.
 */
async function curlRound(what, port, managers, perMesh, accept) {
  const answers = await until(what, async () => {
    const got = []
    for (const m of managers) {
      for (let i = 0; i < perMesh; i++) {
        const body = await httpGet(MESH[m], port)
        if (body === undefined) return undefined
        got.push({ via: MESH[m], body })
      }
    }
    return accept(got) ? got : undefined
  })
  for (const m of managers) {
    out.write(`$ for i in $(seq ${perMesh}); do curl -s http://${MESH[m]}:${port}/; done\n`)
    for (const a of answers) if (a.via === MESH[m]) out.write(`${a.body}\n`)
  }
  return answers
}

/** Distinct answering tasks (container and node) in `answers`. */
const backends = (answers) => new Set(answers.map((a) => a.body.replace(/^.* from /, '')))

async function demo() {
  stateRoot = await mkdtemp(join(tmpdir(), 'swarmkit-demo-'))
  const port = await freePortOn(Object.values(MESH))
  out.write(`swarmkit-ts demo${ci ? ' (--ci: every step checked)' : ''}: state in ${stateRoot}, the service published on port ${port}\n`)

  heading(1, 'Start 3 managers and 2 workers (each its own process, runtime "process")')
  const first = await startNode('m1', ['init', '--listen-addr', '127.0.0.1:0'], 4)
  const address = /running as a manager at (\S+)$/.exec(first[0] ?? '')?.[1]
  const workerToken = /worker token:\s+(\S+)/.exec(first.join('\n'))?.[1]
  const managerToken = /manager token:\s+(\S+)/.exec(first.join('\n'))?.[1]
  check(address !== undefined && workerToken !== undefined && managerToken !== undefined, `m1 did not report its address and tokens: ${first.join(' | ')}`)
  for (const m of ['m2', 'm3']) await startNode(m, ['join', '--join-addr', address, '--token', managerToken], 2)
  await startNodes(['w1', 'w2'], ['join', '--join-addr', address, '--token', workerToken], 1)
  await until('5 nodes ready', async () => {
    const list = await nodeList('m1')
    return list !== undefined && list.length === 5 && list.every((n) => n.status.state === 'ready') ? list : undefined
  })
  await cli.run([...host('m1'), 'node', 'ls'])
  const listed = await nodeList('m1')
  check(listed.filter((n) => n.role === 'manager').length === 3, 'node ls does not show 3 managers')

  heading(2, `Deploy "web" with 3 replicas, published on port ${port} through the routing mesh`)
  note(`the task: node ${web} (the "node" image of the process runtime: just this Node.js)`)
  const created = await cli.run([...host('m1'), 'service', 'create', '--name', 'web', '--replicas', '3', '--publish', `${port}:80`, '--env', 'GREETING=hello', 'node', 'node', web])
  check(created.code === 0, `service create exited ${created.code}`)
  await cli.run([...host('m1'), 'service', 'ps', 'web'])
  note("every manager's mesh answers on the port and spreads the requests over the tasks, wherever they run")
  const hello = await curlRound('3 tasks answering through every mesh', port, ['m1', 'm2', 'm3'], 3, (a) => backends(a).size === 3 && a.every((x) => x.body.startsWith('hello ')))
  check(backends(hello).size === 3, 'the answers do not come from 3 tasks')

  heading(3, 'Scale web from 3 to 6 replicas')
  const scaled = await cli.run([...host('m2'), 'service', 'scale', 'web=6'])
  check(scaled.code === 0, `service scale exited ${scaled.code}`)
  const six = await until('6 running tasks', async () => ((await runningTasks('m2'))?.length === 6 ? true : undefined))
  check(six === true, 'web does not run 6 tasks')
  await cli.run([...host('m2'), 'service', 'ls'])
  const scaledAnswers = await curlRound('6 tasks answering through the meshes', port, ['m1', 'm2', 'm3'], 6, (a) => backends(a).size === 6)
  check(backends(scaledAnswers).size === 6, 'the answers do not come from 6 tasks')

  heading(4, 'Roll out an update (GREETING=bonjour, 2 tasks at a time) with the converge display')
  const updated = await cli.run([...host('m3'), 'service', 'update', '--env-add', 'GREETING=bonjour', '--update-parallelism', '2', 'web'])
  check(updated.code === 0, `service update exited ${updated.code}`)
  const bonjour = await curlRound('6 updated tasks answering', port, ['m1', 'm2', 'm3'], 6, (a) => backends(a).size === 6 && a.every((x) => x.body.startsWith('bonjour ')))
  check(bonjour.every((x) => x.body.startsWith('bonjour ')), 'an answer does not carry the new GREETING')

  heading(5, 'Kill the leader (kill -9) and watch the cluster recover, then restart it')
  const leader = (await nodeList('m1'))?.find((n) => n.managerStatus?.leader === true)
  const killed = leader?.description?.hostname
  check(killed !== undefined && nodes.has(killed), 'no leader in node ls')
  const survivors = ['m1', 'm2', 'm3'].filter((m) => m !== killed)
  out.write(`$ kill -9 ${nodes.get(killed).pid}    # ${killed}, the leader\n`)
  nodes.get(killed).signal('SIGKILL')
  await nodes.get(killed).exit
  const newLeader = await until('a new leader', async () => {
    const list = await nodeList(survivors[0])
    const l = list?.find((n) => n.managerStatus?.leader === true)?.description?.hostname
    return l !== undefined && l !== killed ? l : undefined
  })
  check(newLeader !== killed, 'the killed node is still the leader')
  note(`${newLeader} is the new leader; ask any manager that is left, e.g. ${survivors[0]}:`)
  await until(`${killed} seen down and every other node ready`, async () => {
    const list = await nodeList(survivors[0])
    return list?.every((n) => n.status.state === (n.description?.hostname === killed ? 'down' : 'ready')) === true ? true : undefined
  })
  await cli.run([...host(survivors[0]), 'node', 'ls'])
  await until('6 running tasks again', async () => ((await runningTasks(survivors[0]))?.length === 6 ? true : undefined))
  await cli.run([...host(survivors[0]), 'service', 'ps', 'web', '-f', 'desired-state=running'])
  note('the service still answers through the meshes of the managers left')
  const after = await curlRound('answers after the leader died', port, survivors, 6, (a) => a.every((x) => x.body.startsWith('bonjour ')))
  check(after.length === survivors.length * 6, 'the service does not answer after the leader was killed')
  note(`restart ${killed}: it opens its state directory, catches up through Raft, and stops its tasks that were rescheduled`)
  await startNode(killed, ['open'], 2)
  await until(`${killed} ready and reachable again`, async () => {
    const n = (await nodeList(survivors[0]))?.find((x) => x.description?.hostname === killed)
    return n?.status.state === 'ready' && n.managerStatus?.reachability === 'reachable' ? true : undefined
  })
  await cli.run([...host(killed), 'node', 'ls'])
  const again = await curlRound('answers through every mesh again', port, ['m1', 'm2', 'm3'], 6, (a) => backends(a).size === 6 && a.every((x) => x.body.startsWith('bonjour ')))
  check(backends(again).size === 6, `the service does not answer from 6 tasks through every mesh once ${killed} is back`)

  heading(6, 'Your turn')
  const alias = `alias swarmkit='node ${bin}'`
  out.write(
    [
      `${alias}`,
      `swarmkit -H unix://${sock(survivors[0])} service ls`,
      `swarmkit -H unix://${sock(survivors[0])} service ps web`,
      `swarmkit -H unix://${sock(survivors[0])} service logs web`,
      `swarmkit -H unix://${sock(survivors[1])} service scale web=2`,
      `swarmkit -H unix://${sock(survivors[1])} service update --env-add GREETING=hola web`,
      `swarmkit -H unix://${sock(survivors[0])} service rollback web`,
      `swarmkit -H unix://${sock(survivors[0])} node ls`,
      `curl http://${MESH[survivors[0]]}:${port}/`,
      '',
    ].join('\n'),
  )
  if (ci) {
    out.write('\ndemo: all steps passed\n')
    return
  }
  out.write('The cluster keeps running. Press Ctrl-C to stop every node and remove the state.\n')
  process.removeListener('SIGINT', stopEarly)
  process.removeListener('SIGTERM', stopEarly)
  await new Promise((resolveWait) => {
    process.once('SIGINT', resolveWait)
    process.once('SIGTERM', resolveWait)
  })
}

let cleaning
/** Stops every node (SIGTERM, a clean close), kills the task processes they left, removes the state. Once. */
function cleanup() {
  cleaning ??= cleanupOnce()
  return cleaning
}

async function cleanupOnce() {
  out.write('\ndemo: stopping every node and removing the state\n')
  await Promise.all([...nodes.values()].map((n) => n.stop()))
  if (stateRoot === undefined) return
  for (const name of nodes.keys()) {
    const runtime = await ProcessRuntime.open({ stateDir: join(stateRoot, name, 'runtime', 'process'), images: {}, recover: 'kill' }).catch(() => undefined)
    await runtime?.close()
  }
  await rm(stateRoot, { recursive: true, force: true })
}

// A second Ctrl-C while cleaning up is ignored (the cleanup finishes); a crash kills what is left.
process.on('exit', () => {
  for (const n of nodes.values()) n.signal('SIGKILL')
})

let failed = false
let stopping = false
const stopEarly = () => {
  if (stopping) return
  stopping = true
  failed = true
  out.write(`\ndemo: interrupted at step ${step.n} (${step.title})\n`)
  void cleanup().finally(() => process.exit(130))
}
// Nobody reads the output any more (a closed pipe, EPIPE): stop as on Ctrl-C, cleaning up.
out.on('error', stopEarly)
process.stderr.on('error', stopEarly)
process.once('SIGINT', stopEarly)
process.once('SIGTERM', stopEarly)
try {
  await demo()
  process.removeListener('SIGINT', stopEarly)
  process.removeListener('SIGTERM', stopEarly)
} catch (err) {
  failed = true
  const why = err instanceof StepError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)
  process.stderr.write(`\ndemo: FAILED at step ${step.n} (${step.title}): ${why}\n`)
  for (const [name] of nodes) {
    try {
      const text = readFileSync(join(stateRoot, `${name}.log`), 'utf8').split('\n').slice(-15).join('\n')
      process.stderr.write(`--- ${name}.log (last lines)\n${text}\n`)
    } catch {
      // no log
    }
  }
}
await cleanup()
process.exit(failed ? 1 : 0)
