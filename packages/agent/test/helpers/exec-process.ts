/**
 * ProcessRuntime for the executor tests: a busybox image in a private directory, runtimes closed
 * and their containers removed after each test.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBusyboxImage, findBusybox, ProcessRuntime, type ProcessImage } from '@swarmkit-ts/engine-adapter'

/** The image reference the process tests use. */
export const PROCESS_IMAGE = 'local/busybox:test'

/** A private directory with a busybox image and the runtimes opened on it. */
export class ProcessFixture {
  readonly root: string
  readonly image: ProcessImage
  readonly #open: ProcessRuntime[] = []

  private constructor(root: string, image: ProcessImage) {
    this.root = root
    this.image = image
  }

  /** Makes the directory and the image (busybox is required: `apt-get install -y busybox-static`). */
  static async create(): Promise<ProcessFixture> {
    const busybox = findBusybox()
    if (busybox === undefined) throw new Error('busybox is required: apt-get install -y busybox-static')
    const root = await mkdtemp(join(tmpdir(), 'swarmkit-exec-'))
    return new ProcessFixture(root, await createBusyboxImage(join(root, 'bin'), busybox))
  }

  /** The runtime's state directory. */
  get stateDir(): string {
    return join(this.root, 'state')
  }

  /** Opens a runtime on the state directory (a second one adopts the first one's containers). */
  async runtime(): Promise<ProcessRuntime> {
    const rt = await ProcessRuntime.open({ stateDir: this.stateDir, images: { [PROCESS_IMAGE]: this.image } })
    this.#open.push(rt)
    return rt
  }

  /** Closes a runtime as a crashed agent would leave it (its containers keep running). */
  async close(rt: ProcessRuntime): Promise<void> {
    this.#open.splice(this.#open.indexOf(rt), 1)
    await rt.close()
  }

  /** Removes every container, closes the runtimes and deletes the directory. */
  async dispose(): Promise<void> {
    for (const rt of this.#open.splice(0)) {
      for (const c of await rt.list()) await rt.remove(c.id, { force: true }).catch(() => undefined)
      await rt.close()
    }
    await rm(this.root, { recursive: true, force: true })
  }

  /** Every regular file under the state directory whose content includes `needle`. */
  async filesContaining(needle: string): Promise<string[]> {
    const out: string[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = join(dir, e.name)
        if (e.isDirectory()) await walk(p)
        else if (e.isFile() && (await readFile(p)).includes(needle)) out.push(p)
      }
    }
    await walk(this.stateDir)
    return out.map((p) => p.slice(this.stateDir.length))
  }
}
