/**
 * The one place that loads `@peculiar/x509`. Its v2 resolves algorithms through tsyringe, which
 * needs a Reflect metadata polyfill loaded first; every other module imports x509 from here.
 *
 * The crypto provider is passed explicitly to each call (Node's WebCrypto) instead of setting
 * the library's global provider, so embedding applications keep their own setting.
 *
 * @internal
 */
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

export { x509 }

/** Node's WebCrypto. */
export const nodeCrypto: webcrypto.Crypto = webcrypto

/** A WebCrypto key. */
export type CryptoKey = webcrypto.CryptoKey
/** A WebCrypto key pair. */
export type CryptoKeyPair = webcrypto.CryptoKeyPair
