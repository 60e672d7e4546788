import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { FileRaftStorage, type Encrypter } from '../../raft/src/index.ts'
import { DataKeyRing, generateDataKey, generateNodeKey, generateUnlockKey, ManagerKeyStore, parseUnlockKey } from '../src/index.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pki-keys-'))
  dirs.push(d)
  return d
}

describe('unlock keys', () => {
  it('are SWMKEY-1- and 43 unpadded base64 characters of 32 bytes', () => {
    const fixed = { bytes: (n: number) => new Uint8Array(n).fill(0xff), int: () => 0, float: () => 0 }
    expect(generateUnlockKey(fixed)).toBe('SWMKEY-1-' + '//////////////////////////////////////////8')
    const k = generateUnlockKey(new SeededRandom(1))
    expect(k).toMatch(/^SWMKEY-1-[A-Za-z0-9+/]{43}$/)
    expect(parseUnlockKey(k)).toEqual(new SeededRandom(1).bytes(32))
  })

  it('refuses malformed keys naming the field', () => {
    const k = generateUnlockKey()
    for (const bad of [undefined, '', 'SWMKEY-2-' + k.slice(9), k.slice(0, -1), k + 'A', k.slice(0, -1) + '9', k.slice(0, -1) + '=', k.replace('SWMKEY', 'SWMTKN')]) {
      expect(() => parseUnlockKey(bad, 'spec.unlockKey')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'spec.unlockKey' }))
    }
  })
})

describe('ManagerKeyStore (autolock)', () => {
  it('without autolock, stores the TLS key and DEK in clear and opens without a key', async () => {
    const path = join(await tempDir(), 'keys.json')
    const tls = await generateNodeKey()
    const s = await ManagerKeyStore.create(path, { tlsKeyPem: tls.keyPem })
    expect(s.autolock).toBe(false)
    expect(await ManagerKeyStore.isLocked(path)).toBe(false)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const again = await ManagerKeyStore.open(path)
    expect(again.tlsKeyPem).toBe(tls.keyPem)
    expect(again.dataKeys.current.keyId).toBe(s.dataKeys.current.keyId)
    await expect(ManagerKeyStore.create(path, { tlsKeyPem: tls.keyPem })).rejects.toMatchObject({ name: 'AlreadyExistsError' })
  })

  it('with autolock, a restarted manager stays locked until given the key; a wrong key gets a clear error', async () => {
    const path = join(await tempDir(), 'keys.json')
    const tls = await generateNodeKey()
    const unlockKey = generateUnlockKey()
    const s = await ManagerKeyStore.create(path, { tlsKeyPem: tls.keyPem, unlockKey })
    const dekId = s.dataKeys.current.keyId
    expect(await ManagerKeyStore.isLocked(path)).toBe(true)
    const disk = await readFile(path, 'utf8')
    expect(disk).not.toContain('PRIVATE KEY')
    expect(disk).not.toContain(tls.keyPem.split('\n')[1])
    await expect(ManagerKeyStore.open(path)).rejects.toMatchObject({ name: 'ClusterLockedError', message: 'the swarm is locked: provide the unlock key' })
    await expect(ManagerKeyStore.open(path, { unlockKey: generateUnlockKey() })).rejects.toMatchObject({
      name: 'ClusterLockedError',
      message: "invalid unlock key: it does not open this manager's keys (was it rotated?)",
    })
    await expect(ManagerKeyStore.open(path, { unlockKey: 'SWMKEY-1-short' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'unlockKey' })
    const opened = await ManagerKeyStore.open(path, { unlockKey })
    expect(opened.tlsKeyPem).toBe(tls.keyPem)
    expect(opened.dataKeys.current.keyId).toBe(dekId)
  })

  it('the unlock key can be rotated, and autolock turned off and on again', async () => {
    const path = join(await tempDir(), 'keys.json')
    const tls = await generateNodeKey()
    const k1 = generateUnlockKey()
    const k2 = generateUnlockKey()
    const s = await ManagerKeyStore.create(path, { tlsKeyPem: tls.keyPem, unlockKey: k1 })
    await s.setUnlockKey(k2)
    await expect(ManagerKeyStore.open(path, { unlockKey: k1 })).rejects.toMatchObject({ name: 'ClusterLockedError' })
    expect((await ManagerKeyStore.open(path, { unlockKey: k2 })).tlsKeyPem).toBe(tls.keyPem)
    await s.setUnlockKey(undefined)
    expect(await ManagerKeyStore.isLocked(path)).toBe(false)
    const off = await ManagerKeyStore.open(path)
    expect(off.autolock).toBe(false)
    const clearDek = off.dataKeys.current.keyId
    // Turning autolock on rotates the DEK (the old one was on disk in clear) and keeps the old one readable.
    await off.setUnlockKey(k1)
    const on = await ManagerKeyStore.open(path, { unlockKey: k1 })
    expect(on.dataKeys.keyIds).toHaveLength(2)
    expect(on.dataKeys.keyIds[1]).toBe(clearDek)
    expect(on.dataKeys.current.keyId).not.toBe(clearDek)
    await expect(off.setUnlockKey('nope')).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'unlockKey' })
  })

  it('rotates the DEK without downtime: old data stays readable until the old key is retired', async () => {
    const path = join(await tempDir(), 'keys.json')
    const s = await ManagerKeyStore.create(path, { tlsKeyPem: (await generateNodeKey()).keyPem, random: new SeededRandom(3) })
    const aad = new Uint8Array([1])
    const before = s.dataKeys.current
    const sealedOld = before.encrypt(Buffer.from('old record'), aad)
    const dek = await s.rotateDek()
    const ring = (await ManagerKeyStore.open(path)).dataKeys
    expect(ring.current.keyId).toBe(dek.id)
    expect(Buffer.from(ring.get(before.keyId)?.decrypt(sealedOld, aad) ?? []).toString()).toBe('old record')
    await s.retireOldDeks()
    expect((await ManagerKeyStore.open(path)).dataKeys.keyIds).toEqual([dek.id])
  })

  it('refuses a missing or foreign file with typed errors', async () => {
    const dir = await tempDir()
    await expect(ManagerKeyStore.open(join(dir, 'none.json'))).rejects.toMatchObject({ name: 'NotFoundError' })
    await writeFile(join(dir, 'x.json'), '{"format":"other"}')
    await expect(ManagerKeyStore.open(join(dir, 'x.json'))).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'path' })
    await writeFile(join(dir, 'y.json'), 'not json')
    await expect(ManagerKeyStore.open(join(dir, 'y.json'))).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'path' })
    await expect(ManagerKeyStore.create(join(dir, 'z.json'), { tlsKeyPem: 'x' })).rejects.toMatchObject({ name: 'InvalidArgumentError', field: 'tlsKeyPem' })
  })

  it('end to end: Raft files sealed with the DEK hold no plaintext and reopen only after unlocking', async () => {
    const dir = await tempDir()
    const keysPath = join(dir, 'keys.json')
    const raftDir = join(dir, 'raft')
    const unlockKey = generateUnlockKey()
    const keys = await ManagerKeyStore.create(keysPath, { tlsKeyPem: (await generateNodeKey()).keyPem, unlockKey })
    const secret = Buffer.from('PLAINTEXT-SERVICE-SECRET-VALUE')
    const s = await FileRaftStorage.open(raftDir, { encrypter: keys.dataKeys.current })
    s.append([{ index: 1, term: 1, type: 'normal', data: new Uint8Array(secret) }])
    s.setHardState({ term: 1, vote: 0n, commit: 1 })
    await s.close()
    const names = await readdir(raftDir)
    const disk = Buffer.concat(await Promise.all(names.map((n) => readFile(join(raftDir, n)))))
    expect(disk.length).toBeGreaterThan(0)
    expect(disk.indexOf(secret)).toBe(-1)
    await expect(ManagerKeyStore.open(keysPath)).rejects.toMatchObject({ name: 'ClusterLockedError' })
    const unlocked = await ManagerKeyStore.open(keysPath, { unlockKey })
    const r = await FileRaftStorage.open(raftDir, { encrypter: unlocked.dataKeys.current })
    expect(Buffer.from(r.entries(1, 2)[0]?.data ?? []).toString()).toBe(secret.toString())
    await r.close()
  })
})

describe('DEK rotation under FileRaftStorage (KeyRingEncrypter)', () => {
  it('records written before and after a rotation stay readable; retiring the old key needs a rewrite first', async () => {
    const dir = await tempDir()
    const raftDir = join(dir, 'raft')
    const keys = await ManagerKeyStore.create(join(dir, 'keys.json'), { tlsKeyPem: (await generateNodeKey()).keyPem, unlockKey: generateUnlockKey() })
    const entry = (index: number, text: string) => ({ index, term: 1, type: 'normal' as const, data: new Uint8Array(Buffer.from(text)) })
    const s1 = await FileRaftStorage.open(raftDir, { encrypter: keys.dataKeys.encrypter() })
    s1.append([entry(1, 'BEFORE-ROTATION')])
    await s1.close()
    await keys.rotateDek()
    // No downtime: the storage reopens with the ring and keeps writing under the new key.
    const s2 = await FileRaftStorage.open(raftDir, { encrypter: keys.dataKeys.encrypter() })
    expectTypeOf(keys.dataKeys.encrypter()).toExtend<Encrypter>()
    s2.append([entry(2, 'AFTER-ROTATION')])
    await s2.close()
    const s3 = await FileRaftStorage.open(raftDir, { encrypter: keys.dataKeys.encrypter() })
    expect(s3.entries(1, 3).map((e) => Buffer.from(e.data ?? []).toString())).toEqual(['BEFORE-ROTATION', 'AFTER-ROTATION'])
    await s3.close()
    // Retiring the old key before the old records are rewritten makes them unreadable: caught, not silently lost.
    await keys.retireOldDeks()
    await expect(FileRaftStorage.open(raftDir, { encrypter: keys.dataKeys.encrypter() })).rejects.toMatchObject({ name: 'StorageDecryptionError' })
  })

  it('refuses foreign or truncated payloads with DecryptionError', () => {
    const ring = new DataKeyRing([generateDataKey()])
    const enc = ring.encrypter('r1')
    expect(enc.keyId).toBe('r1')
    const aad = new Uint8Array([7])
    const sealed = enc.encrypt(Buffer.from('x'), aad)
    expect(Buffer.from(enc.decrypt(sealed, aad)).toString()).toBe('x')
    expect(() => enc.decrypt(sealed.subarray(0, 1), aad)).toThrow(expect.objectContaining({ name: 'DecryptionError' }))
    expect(() => enc.decrypt(ring.current.encrypt(Buffer.from('x'), aad), aad)).toThrow(expect.objectContaining({ name: 'DecryptionError', message: 'not sealed by a key ring' }))
    expect(() => new DataKeyRing([generateDataKey()]).encrypter('r1').decrypt(sealed, aad)).toThrow(expect.objectContaining({ name: 'DecryptionError' }))
    expect(() => ring.encrypter('')).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'ringId' }))
  })
})
