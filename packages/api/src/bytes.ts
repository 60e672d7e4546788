/**
 * Where long-held byte arrays (a Raft log entry's data, a snapshot) get their memory.
 *
 * @module
 */

/** Allocates a zero-filled byte array of `length` bytes. */
export type ByteAllocator = (length: number) => Uint8Array

/** `new Uint8Array(length)`: an `ArrayBuffer` of its own, which V8 counts as external memory. */
export const heapBytes: ByteAllocator = (length) => new Uint8Array(length)

/**
 * A byte array over a `SharedArrayBuffer` of its own: the same bytes and the same `Uint8Array`
 * methods, but memory V8 leaves out of the external memory it counts per isolate. V8 starts a
 * full mark of the whole heap each time the external memory it counts has grown by 64 MiB since
 * the last one; a process that holds a growing log and multi-hundred-MB snapshots on a heap of
 * several GB — the simulator, with every manager of a cluster in one process — then marks the
 * heap almost without pause.
 *
 * The price: V8 no longer sees this memory, so arrays of it that became garbage are freed only
 * by a collection something else starts (a young one frees them while they are young). Use it
 * where the heap keeps growing anyway (a simulation building a large cluster), not in a
 * long-running process with a steady heap, where dead arrays could pile up. Its `.buffer` is a
 * `SharedArrayBuffer`: it cannot be transferred, and postMessage shares it instead of copying.
 */
export const sharedBytes: ByteAllocator = (length) => new Uint8Array(new SharedArrayBuffer(length))
