/**
 * Cleanup shared by the test rigs (core cluster, cli, Docker API): the process runtime's workloads outlive their node
 * by design (a restarted node adopts them), so a rig kills what its nodes left running.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Kills (the process group of) every workload the process runtime left under `dir`: a node's
 * tasks outlive it by design (a restarted node adopts them), and a test leaves nothing running.
 */
export async function killWorkloads(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[])
  for (const rel of entries.filter((e) => e.endsWith('container.json'))) {
    const record = JSON.parse(await readFile(join(dir, rel), 'utf8').catch(() => '{}')) as { pid?: number; pidStartTime?: string }
    if (record.pid === undefined || record.pidStartTime === undefined) continue
    const stat = await readFile(`/proc/${record.pid}/stat`, 'utf8').catch(() => '')
    // Field 22 (after the parenthesised command) is the start time: the same process, not a reused pid.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields[19] !== record.pidStartTime) continue
    try {
      process.kill(-record.pid, 'SIGKILL')
    } catch {
      // Gone meanwhile.
    }
  }
}
