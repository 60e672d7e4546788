/**
 * Encryption at rest for {@link FileRaftStorage}: record payloads and snapshot data are sealed
 * by an `Encrypter` (the pki package provides AES-256-GCM with the cluster's data key).
 */

/**
 * Seals and opens byte strings with one key. Implementations must be authenticated (a tampered
 * or foreign ciphertext makes `decrypt` throw) and must not reuse nonces.
 *
 * The storage records `keyId` next to every sealed payload; a payload sealed under another key
 * id is refused with `StorageDecryptionError` before `decrypt` is called.
 */
export interface Encrypter {
  /** Identifies the key; stored in clear next to each sealed payload. */
  readonly keyId: string
  /** Seals `plain`, binding `aad` (additional authenticated data, not stored). */
  encrypt(plain: Uint8Array, aad: Uint8Array): Uint8Array
  /** Opens what {@link Encrypter.encrypt} sealed with the same `aad`; throws if it cannot. */
  decrypt(sealed: Uint8Array, aad: Uint8Array): Uint8Array
}
