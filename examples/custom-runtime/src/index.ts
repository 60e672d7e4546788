/**
 * @packageDocumentation
 * An embedder's own `ContainerRuntime` for swarmkit-ts: {@link RootfsRuntime} runs each container
 * chrooted into a private copy of its image directory.
 */
export { RootfsRuntime, ROOTFS_RUNTIME_CAPABILITIES } from './rootfs-runtime.ts'
export type { RootfsRuntimeInit } from './rootfs-runtime.ts'
export { createBusyboxRootfs, DEFAULT_PATH } from './rootfs-image.ts'
export type { RootfsImage } from './rootfs-image.ts'
export { chrootUnavailable } from './chroot.ts'
