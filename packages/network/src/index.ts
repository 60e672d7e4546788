/**
 * `@swarmkit-ts/network`: what a task needs on the network, allocated on the leader (IPAM,
 * virtual IPs, published ports, the ingress network; tasks NEW → PENDING), and what carries
 * traffic on every node (service discovery over a real DNS server, the routing mesh, the
 * NetworkDriver contract with Docker and process drivers).
 *
 * @packageDocumentation
 */
export * from './ipam/index.ts'
export * from './allocator/index.ts'
export * from './control/index.ts'
export * from './dns/index.ts'
export * from './mesh/index.ts'
export * from './driver/index.ts'
