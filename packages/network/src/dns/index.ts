/**
 * Service discovery: the {@link ServiceResolver} (the names Docker's embedded DNS answers in swarm
 * mode, read from the store) and the {@link DnsServer} that serves them over UDP and TCP.
 *
 * @module
 */
export { ServiceResolver } from './resolver.ts'
export type { ServiceResolverInit } from './resolver.ts'
export { DNS_TASK_TTL_SECONDS, DNS_VIP_TTL_SECONDS } from './resolver-types.ts'
export type {
  DnsAaaaRecord,
  DnsARecord,
  DnsLookupResult,
  DnsQueryType,
  DnsRecord,
  DnsScope,
  DnsSrvRecord,
  DnsTtls,
  NameLookup,
} from './resolver-types.ts'
export { DnsServer, DNS_TCP_IDLE_TIMEOUT_MS, DNS_TCP_MAX_CONNECTIONS } from './server.ts'
export type { DnsServerAddress, DnsServerInit } from './server.ts'
export { answerQuery, DnsRcode, DNS_TCP_MAX_SIZE, DNS_UDP_DEFAULT_SIZE, DNS_UDP_MAX_SIZE } from './message.ts'
