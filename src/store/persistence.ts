/**
 * Startup check of what Redis keeps on disk (`CONFIG GET appendonly` and `save`): secrets
 * live only in Redis, so a Redis without persistence loses all of them when it restarts.
 */
import { Cluster, type Redis } from 'ioredis';

/** Returns a warning for the operator, or undefined when Redis persists every write (AOF). */
export async function checkPersistence(redis: Redis | Cluster): Promise<string | undefined> {
  // In a cluster, CONFIG goes to one node: ask every master and report a problem on any.
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const warnings = await Promise.all(nodes.map(checkNode));
  return warnings.find((w) => w !== undefined);
}

async function checkNode(redis: Redis): Promise<string | undefined> {
  let appendonly: string | undefined;
  let save: string | undefined;
  try {
    appendonly = await configGet(redis, 'appendonly');
    save = await configGet(redis, 'save');
  } catch (err) {
    // Managed Redis often disables CONFIG: say we could not tell rather than guess.
    return `could not check Redis persistence (CONFIG GET failed: ${(err as Error).message}); ` +
      'make sure Redis keeps its data on disk (appendonly yes, appendfsync everysec)';
  }
  if (appendonly === 'yes') return undefined;
  if (!save || save.trim() === '') {
    return 'REDIS KEEPS NOTHING ON DISK (appendonly no, save ""): a Redis restart loses every secret; ' +
      'turn on AOF (appendonly yes, appendfsync everysec)';
  }
  return `Redis persists only RDB snapshots (save "${save}", appendonly no): a Redis crash loses the writes ` +
    'since the last snapshot; turn on AOF (appendonly yes, appendfsync everysec)';
}

async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  const reply = (await redis.call('CONFIG', 'GET', name)) as unknown;
  // RESP2 replies [name, value]; keep to that shape.
  return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
}
