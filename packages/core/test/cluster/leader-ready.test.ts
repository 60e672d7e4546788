import { describe, expect, it } from 'vitest'
import { readyLeaderControl } from '../../src/cluster/leader-ready.ts'
import { controlRig, seedCluster } from '../control/fixture.ts'

/** A gate the test opens or fails. */
function manualGate(): { gate: () => Promise<void> | undefined; open(): void; fail(err: Error): void; calls: number } {
  let resolve: () => void = () => undefined
  let reject: (err: Error) => void = () => undefined
  let ready = false
  const pending = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  pending.catch(() => undefined)
  const g = {
    calls: 0,
    gate: (): Promise<void> | undefined => {
      g.calls++
      return ready ? undefined : pending
    },
    open: (): void => {
      ready = true
      resolve()
    },
    fail: (err: Error): void => reject(err),
  }
  return g
}

const spec = { annotations: { name: 'web' }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox' } } }

describe('the leader control API before its store caught up with earlier terms', () => {
  it('serves no call until the gate opens, then every call at once', async () => {
    const rig = controlRig()
    await seedCluster(rig.store)
    const g = manualGate()
    const control = readyLeaderControl(rig.control, g.gate)
    let answered = false
    const created = control.services.create(spec).then((s) => {
      answered = true
      return s
    })
    const cluster = control.getCluster()
    await new Promise((resolve) => setImmediate(resolve))
    expect(answered).toBe(false)
    expect(rig.store.view((tx) => tx.services.find()).length).toBe(0)
    g.open()
    expect((await created).spec.annotations.name).toBe('web')
    expect((await cluster).spec.annotations.name).toBe('default')
    expect((await control.services.list()).map((s) => s.spec.annotations.name)).toEqual(['web'])
    expect(g.calls).toBe(3)
  })

  it('answers NotLeaderError, having done nothing, when leadership is lost before the store caught up', async () => {
    const rig = controlRig()
    await seedCluster(rig.store)
    const g = manualGate()
    const control = readyLeaderControl(rig.control, g.gate)
    const created = control.services.create(spec)
    const tokens = control.joinTokens()
    g.fail(new Error('leadership lost'))
    await expect(created).rejects.toMatchObject({ name: 'NotLeaderError' })
    await expect(tokens).rejects.toMatchObject({ name: 'NotLeaderError' })
    expect(rig.store.view((tx) => tx.services.find()).length).toBe(0)
  })

  it('keeps the typed errors of the calls themselves', async () => {
    const rig = controlRig()
    await seedCluster(rig.store)
    const g = manualGate()
    g.open()
    const control = readyLeaderControl(rig.control, g.gate)
    await expect(control.services.get('nope')).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(control.services.create({ ...spec, annotations: { name: '' } })).rejects.toMatchObject({ name: 'InvalidArgumentError' })
  })
})
