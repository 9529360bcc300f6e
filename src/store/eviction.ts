/**
 * Startup check of Redis' eviction policy: an evicting Redis may drop nonce keys (reopening
 * replays) or records. Refuse to start unless every master says `noeviction`; where CONFIG
 * is not allowed, warn loudly and go on.
 */
import { Cluster, type Redis } from 'ioredis';

export class EvictionPolicyError extends Error {}

/** Throws EvictionPolicyError on an evicting master; returns a warning when it cannot tell. */
export async function checkEviction(redis: Redis | Cluster): Promise<string | undefined> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const warnings: string[] = [];
  for (const node of nodes) {
    let policy: unknown;
    try {
      policy = ((await node.call('CONFIG', 'GET', 'maxmemory-policy')) as unknown[])[1];
    } catch (err) {
      warnings.push(`COULD NOT CHECK Redis maxmemory-policy (CONFIG GET failed: ${(err as Error).message}); ` +
        'it MUST be noeviction: an evicting Redis can drop nonces (reopening replays) and secrets');
      continue;
    }
    if (policy !== 'noeviction') {
      const where = `${String(node.options.host)}:${String(node.options.port)}`;
      throw new EvictionPolicyError(`Redis ${where} has maxmemory-policy ${String(policy)}: it must be noeviction ` +
        '(an evicting Redis can drop nonces and secrets); refusing to start');
    }
  }
  return warnings[0];
}
