/**
 * A tiny data-driven scenario language in the spirit of etcd's interaction tests. A script is a
 * list of blocks separated by blank lines:
 *
 * ```
 * # comment
 * command arg key=value
 * ----
 * expected output (no blank lines; "ok" when there is nothing to print)
 * ```
 *
 * Commands:
 * - `add-nodes N [prevote=B] [checkquorum=B] [step-down-on-removal=B] [max-inflight=N] [max-size=N]`
 * - `add-node ID` (empty member waiting to be contacted)
 * - `campaign ID`, `tick ID [N]`, `tick-all [N]`, `stabilize`, `process-ready ID`, `deliver-msgs`
 * - `run-ticks N` (tick every live node N times, stabilizing after each tick)
 * - `log-level brief|full` (brief: print only role changes)
 * - `propose ID DATA`, `read-index ID CTX`, `transfer-leadership FROM TO`
 * - `propose-conf-change ID v1 TYPE NODE` | `propose-conf-change ID v2 TRANSITION [TYPE NODE]...` | `propose-conf-change ID leave-joint`
 * - `isolate ID`, `cut A B`, `drop TYPE|all [from=ID] [to=ID]`, `recover`, `crash ID`, `restart ID`, `compact ID [INDEX]`
 * - `report-unreachable LEADER ID`, `report-snapshot LEADER ID ok|fail`
 * - `raft-state`, `raft-log ID`, `status ID`, `read-states ID`
 */
import type { AnyConfChange, ConfChangeSingle, ConfChangeTransition, ConfChangeType, Entry, Ready } from '../../src/index.ts'
import { leaveJointConfChange } from '../../src/index.ts'
import { describe as describeMsg } from './logs.ts'
import { Sim } from './sim.ts'
import type { NodeOptions } from './sim.ts'

/** One parsed block of a script. */
export interface Block {
  /** Comment lines before the command (kept when rewriting). */
  comments: string[]
  command: string
  expected: string
}

/** Splits a script into blocks. */
export function parseScript(text: string): Block[] {
  const blocks: Block[] = []
  let pending: string[] = []
  for (const chunk of text.split(/\n\s*\n/)) {
    const all = chunk.split('\n').filter((l) => l.trim() !== '')
    const comments = all.filter((l) => l.startsWith('#'))
    const lines = all.filter((l) => !l.startsWith('#'))
    const sep = lines.indexOf('----')
    if (sep < 0) {
      if (lines.length > 0) throw new Error(`block without ----: ${chunk}`)
      pending = [...pending, ...comments]
      continue
    }
    blocks.push({ comments: [...pending, ...comments], command: lines.slice(0, sep).join(' ').trim(), expected: lines.slice(sep + 1).join('\n').trim() })
    pending = []
  }
  return blocks
}

/** Renders blocks back into a script (for rewriting golden files). */
export function renderScript(blocks: Block[]): string {
  return blocks.map((b) => `${b.comments.map((c) => `${c}\n`).join('')}${b.command}\n----\n${b.expected}\n`).join('\n')
}

const dec = new TextDecoder()
const enc = new TextEncoder()

function fmtEntry(e: Entry): string {
  return `${e.term}/${e.index}${e.type === 'conf-change' ? ' cc' : ` '${dec.decode(e.data)}'`}`
}

function fmtReady(id: bigint, rd: Ready): string[] {
  const parts: string[] = []
  if (rd.softState !== undefined) parts.push(`state=${rd.softState.state} lead=${rd.softState.lead}`)
  if (rd.hardState !== undefined) parts.push(`hs=(t${rd.hardState.term} v${rd.hardState.vote} c${rd.hardState.commit})`)
  if (rd.snapshot !== undefined) parts.push(`snapshot=${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index}`)
  if (rd.entries.length > 0) parts.push(`append=[${rd.entries.map(fmtEntry).join(', ')}]`)
  if (rd.committedEntries.length > 0) parts.push(`apply=[${rd.committedEntries.map(fmtEntry).join(', ')}]`)
  if (rd.readStates.length > 0) parts.push(`reads=[${rd.readStates.map((r) => `${dec.decode(r.requestCtx)}@${r.index}`).join(', ')}]`)
  if (rd.mustSync) parts.push('sync')
  return [`ready ${id}:${parts.map((p) => ` ${p}`).join('')}`, ...rd.messages.map((m) => `  ${describeMsg(m)}`)]
}

/** Runs scripts against a simulated cluster. */
export class InteractionEnv {
  sim: Sim | undefined
  out: string[] = []
  /** In brief mode only role changes are printed. */
  brief = false

  #sim(): Sim {
    if (this.sim === undefined) throw new Error('add-nodes first')
    return this.sim
  }

  /** Runs one command; returns its output. */
  run(command: string): string {
    this.out = []
    const [cmd = '', ...rest] = command.split(/\s+/)
    const args = rest.filter((a) => !a.includes('='))
    const kv = new Map(rest.filter((a) => a.includes('=')).map((a) => a.split('=') as [string, string]))
    const id = (i: number): bigint => BigInt(args[i] ?? 'x')
    try {
      this.#dispatch(cmd, args, kv, id)
    } catch (err) {
      const e = err as Error & { reason?: string; field?: string }
      this.out.push(`error: ${e.name}${e.reason !== undefined ? ` ${e.reason}` : ''}${e.field !== undefined ? ` ${e.field}` : ''}`)
    }
    return this.out.length === 0 ? 'ok' : this.out.join('\n')
  }

  #dispatch(cmd: string, args: string[], kv: Map<string, string>, id: (i: number) => bigint): void {
    switch (cmd) {
      case 'add-nodes': {
        const n = Number(args[0])
        const options: NodeOptions = {
          preVote: kv.get('prevote') !== 'false',
          checkQuorum: kv.get('checkquorum') !== 'false',
          stepDownOnRemoval: kv.get('step-down-on-removal') === 'true',
        }
        if (kv.has('max-inflight')) options.maxInflightMsgs = Number(kv.get('max-inflight'))
        if (kv.has('max-size')) options.maxSizePerMsg = Number(kv.get('max-size'))
        this.sim = new Sim({ ids: Array.from({ length: n }, (_, i) => BigInt(i + 1)), options })
        this.sim.onReady = (node, rd) => {
          if (!this.brief) this.out.push(...fmtReady(node.id, rd))
          else if (rd.softState !== undefined) this.out.push(`${node.id}: ${rd.softState.state} term=${rd.hardState?.term ?? node.term} lead=${rd.softState.lead}`)
        }
        this.sim.onDeliver = (m, ok) => {
          if (!ok && !this.brief) this.out.push(`dropped: ${describeMsg(m)}`)
        }
        return
      }
      case 'add-node':
        this.#sim().addNode(id(0))
        return
      case 'campaign':
        this.#sim().node(id(0)).raw.campaign()
        return
      case 'tick':
        for (let i = 0; i < Number(args[1] ?? 1); i++) this.#sim().node(id(0)).raw.tick()
        return
      case 'tick-all':
        for (let i = 0; i < Number(args[0] ?? 1); i++) for (const n of this.#sim().nodes.values()) if (n.alive) n.raw.tick()
        return
      case 'stabilize':
        this.#sim().stabilize()
        return
      case 'log-level':
        this.brief = args[0] === 'brief'
        return
      case 'run-ticks':
        this.#sim().tick(Number(args[0] ?? 1))
        return
      case 'process-ready':
        this.#sim().processReady(id(0))
        return
      case 'deliver-msgs':
        this.#sim().deliverAll()
        return
      case 'propose':
        this.#sim().node(id(0)).raw.propose(enc.encode(args[1] ?? ''))
        return
      case 'read-index':
        this.#sim().node(id(0)).raw.readIndex(enc.encode(args[1] ?? ''))
        return
      case 'transfer-leadership':
        this.#sim().node(id(0)).raw.transferLeadership(id(1))
        return
      case 'propose-conf-change':
        this.#sim().node(id(0)).raw.proposeConfChange(parseConfChange(args.slice(1)))
        return
      case 'isolate':
        this.#sim().isolate(id(0))
        return
      case 'cut':
        this.#sim().cut(id(0), id(1))
        return
      case 'drop': {
        const from = kv.get('from')
        const to = kv.get('to')
        this.#sim().drop((m) => (args[0] === 'all' || m.type === args[0]) && (from === undefined || m.from === BigInt(from)) && (to === undefined || m.to === BigInt(to)))
        return
      }
      case 'recover':
        this.#sim().recover()
        return
      case 'crash':
        this.#sim().crash(id(0))
        return
      case 'restart':
        this.#sim().restart(id(0))
        return
      case 'compact':
        this.#sim().compact(id(0), args[1] === undefined ? undefined : Number(args[1]))
        return
      case 'report-unreachable':
        this.#sim().node(id(0)).raw.reportUnreachable(id(1))
        return
      case 'report-snapshot':
        this.#sim().node(id(0)).raw.reportSnapshot(id(1), args[2] === 'ok')
        return
      case 'raft-state':
        for (const n of this.#sim().nodes.values()) this.out.push(`${n.id}: ${n.alive ? n.state : 'down'} term=${n.term} lead=${n.lead}`)
        return
      case 'raft-log': {
        const n = this.#sim().node(id(0))
        const s = n.storage
        this.out.push(...s.entries(s.firstIndex(), s.lastIndex() + 1).map(fmtEntry))
        return
      }
      case 'read-states':
        this.out.push(...this.#sim().node(id(0)).readStates.map((r) => `${dec.decode(r.requestCtx)}@${r.index}`))
        return
      case 'status': {
        const st = this.#sim().node(id(0)).status
        const c = st.config
        this.out.push(`${st.softState.state} term=${st.hardState.term} vote=${st.hardState.vote} commit=${st.hardState.commit} applied=${st.applied} last=${st.lastIndex} lead=${st.softState.lead}`)
        this.out.push(`config voters=(${c.voters.join(' ')}) outgoing=(${c.votersOutgoing.join(' ')}) learners=(${c.learners.join(' ')}) next=(${c.learnersNext.join(' ')})${c.autoLeave ? ' autoleave' : ''}`)
        for (const [pid, p] of st.progress) this.out.push(`  ${pid}: ${p.state} match=${p.match} next=${p.next}${p.paused ? ' paused' : ''}${p.inflight > 0 ? ` inflight=${p.inflight}` : ''}${p.isLearner ? ' learner' : ''}`)
        return
      }
      default:
        throw new Error(`unknown command ${cmd}`)
    }
  }
}

function parseConfChange(args: string[]): AnyConfChange {
  const none = new Uint8Array(0)
  if (args[0] === 'leave-joint') return leaveJointConfChange()
  if (args[0] === 'v1') return { version: 1, type: args[1] as ConfChangeType, nodeId: BigInt(args[2] ?? '0'), context: none }
  const changes: ConfChangeSingle[] = []
  for (let i = 2; i + 1 < args.length; i += 2) changes.push({ type: args[i] as ConfChangeType, nodeId: BigInt(args[i + 1] ?? '0') })
  return { version: 2, transition: args[1] as ConfChangeTransition, changes, context: none }
}
