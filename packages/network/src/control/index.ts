/**
 * Control: what the control API calls on the network side — network create/remove
 * (NetworkControl) and the endpoint checks run before a service is written.
 *
 * @module
 */
export { checkServiceEndpoint, findNetwork, findIngressNetwork } from './endpoint-check.ts'
export {
  INGRESS_NETWORK_NAME,
  NetworkControl,
  PREDEFINED_NETWORK_LABEL,
  createIngressNetwork,
  createNetworkInTx,
  defaultIngressNetworkSpec,
  ensureIngressNetwork,
  lookupNetwork,
  networkInUse,
} from './network-control.ts'
export type { NetworkControlInit } from './network-control.ts'
