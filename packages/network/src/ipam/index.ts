/**
 * IPAM: addresses and subnets as `bigint` values, a compact bitmap, the addresses of one subnet
 * (serial allocation, reserved network/gateway/broadcast), pools of subnets (the cluster's
 * default address pools), the IPAM state of a cluster ({@link Ipam}), and the pure
 * network-level allocation ({@link allocateNetworkIpam}: subnets, gateways, VXLAN ids).
 *
 * @module
 */
export {
  addressBits,
  compareAddresses,
  formatAddress,
  formatAttachmentAddress,
  formatSubnet,
  parseAddress,
  parseAttachmentAddress,
  parseSubnet,
  subnetContains,
  subnetLast,
  subnetOf,
  subnetSize,
  subnetsOverlap,
} from './address.ts'
export type { AddressFamily, AttachmentAddress, IpAddress, Subnet } from './address.ts'
export { Bitmap } from './bitmap.ts'
export { MAX_BITMAP_ADDRESSES, SubnetAddresses } from './subnet-addresses.ts'
export type { SubnetAddressesInit } from './subnet-addresses.ts'
export {
  DEFAULT_ADDRESS_POOL,
  DEFAULT_IPV6_ADDRESS_POOL,
  DEFAULT_IPV6_SUBNET_SIZE,
  DEFAULT_SUBNET_SIZE,
  MAX_IPV4_SUBNET_SIZE,
  SubnetPool,
  compareSubnets,
  validateAddressPools,
} from './subnet-pool.ts'
export type { OwnedSubnet, SubnetPoolInit } from './subnet-pool.ts'
export { Ipam, rebuildIpam } from './ipam.ts'
export type { IpamConflict, IpamInit, IpamNetworkSnapshot, IpamPoolSnapshot, IpamSnapshot, RebuiltIpam } from './ipam.ts'
export {
  DEFAULT_IPAM_DRIVER,
  DEFAULT_NETWORK_DRIVER,
  VXLAN_ID_MAX,
  VXLAN_ID_MIN,
  VXLAN_ID_OPTION,
  allocateNetworkIpam,
  networkDriverName,
  subnetPoolInitOf,
  usedVxlanIds,
} from './network-allocation.ts'
export type { AllocatedIpam, NetworkAllocationOptions, NetworkIpamAllocation } from './network-allocation.ts'
