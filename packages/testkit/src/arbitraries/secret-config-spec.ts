import fc from 'fast-check'
import { MAX_SECRET_SIZE } from '@swarmkit-ts/api'
import type { ConfigSpec, SecretSpec } from '@swarmkit-ts/api'
import { arbAnnotationsNamed, arbBytes, arbDriver, arbSecretName } from './primitives.ts'

/** Payload bytes: usually small, rarely exactly at the largest allowed size (MAX_SECRET_SIZE − 1). */
function arbPayload(minLength: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { arbitrary: arbBytes(minLength), weight: 50 },
    { arbitrary: fc.nat(255).map((fill) => new Uint8Array(MAX_SECRET_SIZE - 1).fill(fill)), weight: 1 },
  )
}

/** A valid {@link SecretSpec}: 1 byte to less than 500 KiB of data, or empty data with an external driver. */
export function arbSecretSpec(): fc.Arbitrary<SecretSpec> {
  return fc
    .tuple(arbAnnotationsNamed(arbSecretName()), fc.option(arbDriver(), { nil: undefined }), fc.option(arbDriver(), { nil: undefined }))
    .chain(([annotations, templating, driver]) =>
      arbPayload(driver === undefined ? 1 : 0).map((data): SecretSpec => {
        const spec: SecretSpec = { annotations, data }
        if (templating !== undefined) spec.templating = templating
        if (driver !== undefined) spec.driver = driver
        return spec
      }),
    )
}

/** A valid {@link ConfigSpec}: 1 byte to less than 500 KiB of data. */
export function arbConfigSpec(): fc.Arbitrary<ConfigSpec> {
  return fc
    .tuple(arbAnnotationsNamed(arbSecretName()), arbPayload(1), fc.option(arbDriver(), { nil: undefined }))
    .map(([annotations, data, templating]): ConfigSpec => (templating === undefined ? { annotations, data } : { annotations, data, templating }))
}
