/**
 * The line-delimited JSON control protocol between the test harness (`node-process.ts`) and the
 * `kv-node.ts` fixture process: one request per line on the child's stdin, one response or event
 * per line on its stdout. Member ids travel as decimal strings (JSON has no bigint).
 */

/** Configuration of a fixture process, passed as its only argument (JSON). */
export interface KvNodeConfig {
  /** Member id, decimal. */
  id: string
  /** FileRaftStorage directory. */
  dir: string
  /** Milliseconds per Raft tick. */
  tickMs: number
  /** Ticks before a follower campaigns. */
  electionTick: number
  /** Entries between automatic snapshots; 0 disables them. */
  snapshotInterval: number
  /** Entries kept behind a snapshot. */
  logEntriesForSlowFollowers: number
  /** WAL segment size. */
  segmentBytes?: number
}

/** A member and the address its transport listens on. */
export interface PeerAddress {
  id: string
  address: string
}

/** The requests, by command name, with their arguments and results. */
export interface KvNodeCommands {
  /** Tells the transport where members are; these addresses win over those in the log. */
  peers: { args: { peers: PeerAddress[] }; result: null }
  /** Creates the cluster (empty storage only) and starts the node. */
  bootstrap: { args: { peers: PeerAddress[] }; result: null }
  /** Starts the node on existing storage. */
  start: { args: Record<string, never>; result: null }
  /** Proposes `key=value`; resolves once applied on this member. */
  put: { args: { key: string; value: string; timeoutMs?: number }; result: { value: string; index: number } }
  /** A linearizable read of `key` (`null` when absent). */
  read: { args: { key: string; timeoutMs: number }; result: { value: string | null } }
  status: { args: Record<string, never>; result: KvNodeStatus }
  dump: { args: Record<string, never>; result: KvNodeDump }
  /** Runtime figures since the previous `stats` (or the start), for benchmarks; then resets them. */
  stats: { args: Record<string, never>; result: KvNodeStats }
  /** Stops the node gracefully, closes the storage, then the process exits with 0. */
  stop: { args: Record<string, never>; result: null }
}

/** A command name. */
export type KvNodeCommand = keyof KvNodeCommands

/** A request line. */
export type KvNodeRequest = { [C in KvNodeCommand]: { seq: number; cmd: C } & KvNodeCommands[C]['args'] }[KvNodeCommand]

/** An error as it crosses the process boundary. */
export interface WireError {
  name: string
  message: string
}

/** A response line. */
export type KvNodeResponse = { seq: number; ok: true; result: unknown } | { seq: number; ok: false; error: WireError }

/** An unsolicited line: the node is listening, or it could not start. */
export type KvNodeEvent = { event: 'ready'; address: string; firstIndex: number; lastIndex: number } | { event: 'failed'; error: WireError }

/** What `status` reports. */
export interface KvNodeStatus {
  id: string
  /** Known leader, decimal (`"0"` when unknown). */
  leader: string
  role: string
  term: number
  commit: number
  applied: number
  firstIndex: number
  lastIndex: number
  /** SHA-256 of the stored entries `firstIndex..applied` (index, term, type, data). */
  logHash: string
  /** Member addresses as the driver knows them (from the log). */
  members: PeerAddress[]
}

/** A stored log entry. */
export interface LogEntryDump {
  index: number
  term: number
  type: string
  /** Base64 of the entry data. */
  data: string
}

/** A proposal applied to the state machine during this process's life. */
export interface AppliedDump {
  index: number
  term: number
  payload: string
}

/** What `dump` reports. */
export interface KvNodeDump {
  applied: number
  /** The state machine, sorted by key. */
  kv: Array<[string, string]>
  /** Stored entries `firstIndex..applied`. */
  log: LogEntryDump[]
  /** Proposals applied by this process, in order (after a snapshot restore, only the later ones). */
  appliedEntries: AppliedDump[]
}

/** Percentiles of a set of durations, in milliseconds. */
export interface DurationSummary {
  count: number
  p50: number
  p99: number
  max: number
  /** Sum of all durations. */
  total: number
}

/** What `stats` reports: where a member's time went since the last `stats`. */
export interface KvNodeStats {
  /** Wall-clock milliseconds covered. */
  elapsedMs: number
  /** Fraction of that time the event loop was busy. */
  loopUtilization: number
  /** Event-loop delay (how late a 1 ms timer fired). */
  loopDelay: DurationSummary
  /** Storage `sync()` calls (write + fdatasync), from call to resolution. */
  sync: DurationSummary
  /** Garbage collection pauses. */
  gc: DurationSummary
  /** The major (mark-compact) ones among them. */
  majorGc: DurationSummary
  /** CPU time of the process (user + system) in milliseconds. */
  cpuMs: number
}
