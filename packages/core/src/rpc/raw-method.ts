/**
 * grpc-js method definitions whose messages are the encoded bytes themselves: the services of
 * core encode and decode their envelopes in the handlers, so that a malformed request becomes a
 * typed `InvalidArgumentError` instead of grpc-js's INTERNAL.
 *
 * @module
 */
import type { MethodDefinition } from '@grpc/grpc-js'

const raw = (b: Buffer): Buffer => b

/** A method at `path` taking and answering Buffers, unary unless `responseStream`. */
export function rawMethod(path: string, originalName: string, responseStream = false): MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
    originalName,
  }
}
