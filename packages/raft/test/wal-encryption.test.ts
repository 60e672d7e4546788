import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { copyFile, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Encrypter, Entry } from '../src/index.ts'
import { emptyConfState } from '../src/index.ts'
import { useFileStorageFixture } from './helpers/file-storage-fixture.ts'

/** AES-256-GCM: nonce (12) ‖ tag (16) ‖ ciphertext. */
class AesGcmEncrypter implements Encrypter {
  readonly keyId: string
  readonly #key: Buffer
  constructor(keyId: string, key: Buffer = randomBytes(32)) {
    this.keyId = keyId
    this.#key = key
  }
  encrypt(plain: Uint8Array, aad: Uint8Array): Uint8Array {
    const nonce = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', this.#key, nonce)
    c.setAAD(aad)
    const body = Buffer.concat([c.update(plain), c.final()])
    return Buffer.concat([nonce, c.getAuthTag(), body])
  }
  decrypt(sealed: Uint8Array, aad: Uint8Array): Uint8Array {
    const b = Buffer.from(sealed)
    const d = createDecipheriv('aes-256-gcm', this.#key, b.subarray(0, 12))
    d.setAAD(aad)
    d.setAuthTag(b.subarray(12, 28))
    return Buffer.concat([d.update(b.subarray(28)), d.final()])
  }
}

const { tempDir, openIn } = useFileStorageFixture('raft-wal-encryption-')

const SECRET = Buffer.from('TOP-SECRET-ENTRY-PAYLOAD')
const SNAP_SECRET = Buffer.from('TOP-SECRET-SNAPSHOT-STATE')
const cs = { ...emptyConfState(), voters: [0x1234567890abcdefn] }
const secretEntry = (index: number): Entry => ({ index, term: 1, type: 'normal', data: new Uint8Array(SECRET) })

async function allBytes(dir: string): Promise<Buffer> {
  const names = await readdir(dir)
  return Buffer.concat(await Promise.all(names.map((n) => readFile(join(dir, n)))))
}

/** A storage with encrypted entries, hard state and snapshot; closed. */
async function encryptedStore(enc: Encrypter): Promise<string> {
  const dir = await tempDir()
  const s = await openIn(dir, { encrypter: enc })
  s.append([secretEntry(1), secretEntry(2), secretEntry(3)])
  s.setHardState({ term: 1, vote: 0x1234567890abcdefn, commit: 2 })
  s.createSnapshot(2, cs, new Uint8Array(SNAP_SECRET))
  await s.close()
  return dir
}

describe('FileRaftStorage encryption', () => {
  it('keeps known plaintext out of every file and reads it back with the key', async () => {
    const enc = new AesGcmEncrypter('dek-1')
    const dir = await encryptedStore(enc)
    const disk = await allBytes(dir)
    expect(disk.indexOf(SECRET)).toBe(-1)
    expect(disk.indexOf(SNAP_SECRET)).toBe(-1)
    const plainDir = await tempDir()
    const plain = await openIn(plainDir)
    plain.append([secretEntry(1)])
    await plain.close()
    expect((await allBytes(plainDir)).indexOf(SECRET)).toBeGreaterThan(0) // the check can fail

    const r = await openIn(dir, { encrypter: enc })
    expect(r.entries(1, 4)).toEqual([secretEntry(1), secretEntry(2), secretEntry(3)])
    expect(r.hardState()).toEqual({ term: 1, vote: 0x1234567890abcdefn, commit: 2 })
    expect(r.snapshot()).toEqual({ metadata: { index: 2, term: 1, confState: cs }, data: new Uint8Array(SNAP_SECRET) })
  })

  it('refuses to open without an encrypter, naming the key id', async () => {
    const dir = await encryptedStore(new AesGcmEncrypter('dek-1'))
    const wal = join(dir, 'wal-0000000000000000-0000000000000001.log')
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'StorageDecryptionError', keyId: 'dek-1', file: wal, offset: 0 })
  })

  it('refuses a record sealed under another key id, or that the key cannot open', async () => {
    const dir = await encryptedStore(new AesGcmEncrypter('dek-1'))
    await expect(openIn(dir, { encrypter: new AesGcmEncrypter('dek-2') })).rejects.toMatchObject({ name: 'StorageDecryptionError', keyId: 'dek-1' })
    const wrongKey = openIn(dir, { encrypter: new AesGcmEncrypter('dek-1') })
    await expect(wrongKey).rejects.toMatchObject({ name: 'StorageDecryptionError', keyId: 'dek-1', message: expect.stringContaining('decryption failed') as unknown })
  })

  it('refuses an encrypted snapshot file that the key cannot open', async () => {
    const enc = new AesGcmEncrypter('dek-1')
    const dir = await encryptedStore(enc)
    // Another storage with another key writes a snapshot under the same name.
    const other = await tempDir()
    const o = await openIn(other, { encrypter: new AesGcmEncrypter('dek-1') })
    o.append([secretEntry(1), secretEntry(2)])
    o.createSnapshot(2, cs, new Uint8Array([1]))
    await o.close()
    const name = 'snap-0000000000000001-0000000000000002.snap'
    await rm(join(dir, name))
    await copyFile(join(other, name), join(dir, name))
    await expect(openIn(dir, { encrypter: enc })).rejects.toMatchObject({ name: 'StorageDecryptionError', file: join(dir, name), offset: 0 })
  })

  it('turns encryption on for an existing plaintext log', async () => {
    const dir = await tempDir()
    const s = await openIn(dir)
    s.append([secretEntry(1)])
    await s.close()
    const enc = new AesGcmEncrypter('dek-1')
    const e = await openIn(dir, { encrypter: enc })
    e.append([secretEntry(2)])
    await e.close()
    expect((await openIn(dir, { encrypter: enc })).entries(1, 3)).toEqual([secretEntry(1), secretEntry(2)])
    await expect(openIn(dir)).rejects.toMatchObject({ name: 'StorageDecryptionError' })
  })
})

describe('FileRaftStorage encryption: what is sealed', () => {
  it('seals entry records and writes hard state records in the clear (term, vote and commit hold no secret)', async () => {
    const dir = await encryptedStore(new AesGcmEncrypter('dek-1'))
    const buf = await readFile(join(dir, 'wal-0000000000000000-0000000000000001.log'))
    const types: number[] = []
    for (let pos = 0; pos + 9 <= buf.length; ) {
      const len = buf.readUInt32LE(pos)
      if (len === 0 && buf[pos + 8] === 0) break
      types.push(buf[pos + 8] as number)
      pos += 9 + len
    }
    // segment start (1) and entries (2) sealed (0x80), hard state (3) not, snapshot marker (4) sealed.
    expect(types.map((t) => ({ type: t & 0x7f, sealed: (t & 0x80) !== 0 }))).toEqual([
      { type: 1, sealed: true },
      { type: 2, sealed: true },
      { type: 3, sealed: false },
      { type: 4, sealed: true },
    ])
  })
})
