/**
 * Redis key layout. Every key starts with the configured prefix and carries one hash tag,
 * so in Redis Cluster all of a deployment's keys share a slot and every script stays atomic.
 *
 *   <prefix>{s}:r:<key>          record hash (layout in record.ts): lists, stamps, identity, MAC, kept versions
 *   <prefix>{s}:all              sorted set of every key (administrators' list)
 *   <prefix>{s}:vis:<slug>       sorted set of the keys a slug can see (its list, without a scan)
 *   <prefix>{s}:n:<caller>:<nonce> used nonce; for writes, the stored outcome
 *   <prefix>{s}:canary           a record (same layout) sealing a known text, checked at startup
 *   <prefix>{s}:rv:order         sorted set of revocation entries in the order made (score: revision added at)
 *   <prefix>{s}:rv:entries       hash: revocation entry → the outcome its revoke stored (revocation-store.ts)
 *   <prefix>{s}:rv:rev           revision counter, bumped by every revocation change (polled by workers)
 *   <prefix>{s}:ch:log           stream of change entries, ID "<revision>-0" (changes.ts; docs/protocol.md §14)
 *   <prefix>{s}:ch:rev           the newest revision: bumped by every committed create, update and delete
 */
export class RedisKeys {
  readonly base: string;
  constructor(prefix: string) {
    this.base = `${prefix}{s}:`;
  }
  get recordPrefix(): string {
    return `${this.base}r:`;
  }
  record(key: string): string {
    return `${this.base}r:${key}`;
  }
  get all(): string {
    return `${this.base}all`;
  }
  visible(slug: string): string {
    return `${this.base}vis:${slug}`;
  }
  nonce(callerKey: string, nonce: string): string {
    return `${this.base}n:${callerKey}:${nonce}`;
  }
  get canary(): string {
    return `${this.base}canary`;
  }
  get revocationOrder(): string {
    return `${this.base}rv:order`;
  }
  get revocationEntries(): string {
    return `${this.base}rv:entries`;
  }
  get revocationRevision(): string {
    return `${this.base}rv:rev`;
  }
  get changeLog(): string {
    return `${this.base}ch:log`;
  }
  get changeRevision(): string {
    return `${this.base}ch:rev`;
  }
}
