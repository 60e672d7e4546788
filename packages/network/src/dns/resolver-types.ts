/**
 * What the resolver answers, as data: records, lookup results, scopes, and the TTLs it gives.
 *
 * @module
 */

/** The record types the resolver answers. */
export type DnsQueryType = 'A' | 'AAAA' | 'SRV'

/** An IPv4 address record. */
export interface DnsARecord {
  readonly type: 'A'
  /** The owner name, as it was asked (case kept, no trailing dot). */
  readonly name: string
  /** Seconds a client may cache it. */
  readonly ttl: number
  readonly address: string
}

/** An IPv6 address record. */
export interface DnsAaaaRecord {
  readonly type: 'AAAA'
  /** The owner name, as it was asked (case kept, no trailing dot). */
  readonly name: string
  /** Seconds a client may cache it. */
  readonly ttl: number
  readonly address: string
}

/** A service record (RFC 2782): where a named port of a service is reached. */
export interface DnsSrvRecord {
  readonly type: 'SRV'
  /** The owner name, as it was asked (`_http._tcp.web`). */
  readonly name: string
  /** Seconds a client may cache it. */
  readonly ttl: number
  readonly priority: number
  readonly weight: number
  /** The port's target port (what a client on the service's network connects to). */
  readonly port: number
  /** The service name (as asked, with its network qualifier if it had one). */
  readonly target: string
}

/** A record the resolver answers with. */
export type DnsRecord = DnsARecord | DnsAaaaRecord | DnsSrvRecord

/** The answer to one lookup. */
export interface DnsLookupResult {
  /**
   * Whether the name exists in the scope, whatever the type asked (false: NXDOMAIN). A name that
   * exists with no record of the type asked is NODATA: `found` with no answers.
   */
  readonly found: boolean
  /** Records of the type asked. */
  readonly answers: readonly DnsRecord[]
  /** Address records of SRV targets (the DNS additional section). */
  readonly additionals: readonly DnsRecord[]
}

/**
 * The networks a lookup is answered from: network ids or names (names match case-insensitively;
 * entries naming no network are ignored), or `'all'` for every network. The ingress network
 * never serves names (as in Docker, where it carries only the routing mesh).
 */
export type DnsScope = readonly string[] | 'all'

/** What a DNS server needs of a resolver: a synchronous lookup. */
export interface NameLookup {
  /** Answers `name` (any case, with or without a trailing dot) for `type` from the networks of `scope`. */
  lookup(name: string, type: DnsQueryType, scope: DnsScope): DnsLookupResult
}

/**
 * TTL of a service's virtual IP (and of a VIP-mode service's SRV records): a VIP lives as long as
 * the service's attachment to the network, so it is cached as long as Docker caches every record.
 */
export const DNS_VIP_TTL_SECONDS = 600

/**
 * TTL of answers made of task addresses (`tasks.<service>`, a DNSRR service's name, a task's
 * name, and the SRV records of a DNSRR service): short, so clients follow scaling and
 * rescheduling (Docker gives 600 s to these too; clients that cache them keep stale tasks).
 */
export const DNS_TASK_TTL_SECONDS = 5

/** The TTLs a resolver gives; see {@link DNS_VIP_TTL_SECONDS} and {@link DNS_TASK_TTL_SECONDS}. */
export interface DnsTtls {
  /** @default DNS_VIP_TTL_SECONDS */
  readonly vip?: number
  /** @default DNS_TASK_TTL_SECONDS */
  readonly task?: number
}
