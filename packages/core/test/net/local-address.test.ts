import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, UnavailableError } from '@swarmkit-ts/api'
import { localAddressToward } from '../../src/net/local-address.ts'

describe('localAddressToward', () => {
  it('answers the loopback address toward a loopback manager (an IP, a host name, port 0)', async () => {
    expect(await localAddressToward('127.0.0.1:4242')).toBe('127.0.0.1')
    expect(await localAddressToward('127.0.0.1:0')).toBe('127.0.0.1')
    expect(await localAddressToward('localhost:4242')).toBe('127.0.0.1')
  })

  it('refuses what is not host:port with an InvalidArgumentError naming the field', async () => {
    for (const bad of ['10.0.0.1', '10.0.0.1:99999', '[zz]:1', ':4242', '']) {
      await expect(localAddressToward(bad, 'joinAddr')).rejects.toSatisfy((e: unknown) => e instanceof InvalidArgumentError && e.field === 'joinAddr')
    }
  })

  it('answers UnavailableError naming the field for a host that does not resolve', async () => {
    await expect(localAddressToward('nosuchhost.invalid:4242', 'joinAddr')).rejects.toSatisfy((e: unknown) => e instanceof UnavailableError && e.message.startsWith('joinAddr: no route to nosuchhost.invalid:4242'))
  })
})
