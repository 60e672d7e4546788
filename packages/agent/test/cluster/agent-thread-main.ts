/**
 * The entry of an agents' thread under a TypeScript loader (tests): runs
 * {@link runAgentThread} with the Worker's `workerData` (see threaded-cluster.ts).
 *
 * @module
 */
import { workerData } from 'node:worker_threads'
import { AGENT_THREAD, runAgentThread } from './agent-thread.ts'
import type { AgentThreadInit } from './agent-thread.ts'

const data = workerData as { readonly kind?: string; readonly init: AgentThreadInit } | null
if (data?.kind === AGENT_THREAD) await runAgentThread(data.init)
