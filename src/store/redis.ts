/**
 * The Redis connection (one server, a Cluster, or a Sentinel-managed master): fail fast
 * while Redis is away (503), reconnect forever.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { UnavailableError } from '@secret-svc/protocol';
import type { Logger } from '../log.js';
import { describeRedisTarget, type RedisTarget } from './redis-target.js';
import { SCRIPT_NAMES } from './script-loader.js';

/** What the store talks to; both run the same commands and scripts. */
export type RedisHandle = Redis | Cluster;

const retryForever = (times: number) => Math.min(50 * 2 ** times, 2000);

/** Per-connection settings shared by every mode. */
const FAIL_FAST: RedisOptions = {
  lazyConnect: true,
  // No offline queue: a request while Redis is away gets 503 at once instead of waiting.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 2000,
  connectTimeout: 2000,
  retryStrategy: retryForever,
  // Scripts issued in the same tick go out in one socket write: half the Redis CPU per read.
  enableAutoPipelining: true,
  // Reads are batched by the store itself (read-batch.ts), which sends each batch when it is ready.
  autoPipeliningIgnoredCommands: ['read'],
};

export function createRedis(target: RedisTarget): RedisHandle {
  switch (target.mode) {
    case 'standalone':
      return new Redis(target.url, { ...FAIL_FAST, reconnectOnError: () => false });
    case 'sentinel':
      return new Redis({
        ...FAIL_FAST,
        sentinels: target.sentinels,
        name: target.masterName,
        role: 'master',
        sentinelPassword: target.sentinelPassword,
        sentinelRetryStrategy: retryForever,
        sentinelCommandTimeout: 2000,
        // Learn of a failover from the sentinels' +switch-master at once, not at the next error.
        failoverDetector: true,
        username: target.username,
        password: target.password,
        db: target.db,
        ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
        // A demoted master refuses writes: reconnect (through the sentinels, to the new master);
        // the failed command itself is answered 503 and the client retries.
        reconnectOnError: (err) => /READONLY/.test(err.message),
      });
    case 'cluster': {
      const options: ClusterOptions = {
        lazyConnect: true,
        // Before the cluster is ready (slots known, cluster_state ok) commands fail at once.
        enableOfflineQueue: false,
        enableReadyCheck: true,
        enableAutoPipelining: true,
        // ioredis groups an auto-pipelined script by the slot of its first argument, the key
        // count, not of its keys: while that slot is missing from the client's map (a cluster
        // forming, a refresh after a lost node) the call throws a TypeError instead of being
        // routed. Scripts go through the normal path, which routes by their keys' slot.
        autoPipeliningIgnoredCommands: [...SCRIPT_NAMES],
        clusterRetryStrategy: retryForever,
        slotsRefreshTimeout: 2000,
        // Node connections keep ioredis' own offline queue (bounded by connectTimeout) while it follows MOVED.
        redisOptions: {
          maxRetriesPerRequest: 0,
          commandTimeout: 2000,
          connectTimeout: 2000,
          username: target.username,
          password: target.password,
          ...(target.tls ? { tls: {} } : {}),
        },
      };
      return new Cluster(target.nodes, options);
    }
  }
}

/**
 * Connects and resolves once Redis is ready: for a cluster, once the slots are known and the
 * master of our slot answers, so the canary check and the first requests find a working store.
 * Redis may start after the worker: the client's retry strategies keep trying forever, and
 * the first failure is logged once.
 */
export async function connectRedis(redis: RedisHandle, target: RedisTarget, log: Logger, signal?: AbortSignal): Promise<void> {
  if (redis.status === 'ready') return;
  let warned = false;
  const onError = (err: Error) => {
    if (warned) return;
    warned = true;
    log.warn({ redis: describeRedisTarget(target), err: err.message }, 'waiting for Redis');
  };
  redis.on('error', onError);
  redis.on('node error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        redis.off('ready', onReady);
        redis.disconnect(); // stop the retry timers: nothing may keep a refused worker alive
        reject(new Error('stopped while waiting for Redis'));
      };
      const onReady = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      redis.once('ready', onReady);
      // A failed first attempt rejects here, but the retry strategy keeps reconnecting.
      redis.connect().catch((err: Error) => onError(err));
    });
    if (redis instanceof Cluster) await untilSlotServes(redis, onError, signal);
  } finally {
    redis.off('error', onError);
    redis.off('node error', onError);
  }
}

/**
 * A key in the slot of the hash tag every deployment key carries (store/keys.ts; the prefix
 * cannot hold a brace in cluster mode), so a read of it reaches the master our data lives on.
 */
const TAG_SLOT_PROBE = '{s}';

/**
 * A cluster is "ready" once its slots are known and no node reports cluster_state:fail, but
 * while a cluster forms, the master of our slot may still answer CLUSTERDOWN: wait until it serves.
 */
async function untilSlotServes(cluster: Cluster, onError: (err: Error) => void, signal?: AbortSignal): Promise<void> {
  for (;;) {
    try {
      await cluster.exists(TAG_SLOT_PROBE);
      return;
    } catch (err) {
      onError(err as Error);
    }
    if (signal?.aborted) {
      cluster.disconnect();
      throw new Error('stopped while waiting for Redis');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Logs losing and regaining Redis once per outage; returns a function that stops watching (for a clean stop). */
export function watchRedis(redis: RedisHandle, log: Logger): () => void {
  let down = false;
  const lost = () => {
    if (!down) log.warn('Redis connection lost: answering 503 until it returns');
    down = true;
  };
  redis.on('close', lost);
  redis.on('reconnecting', lost);
  redis.on('ready', () => {
    if (down) log.info('Redis connection restored');
    down = false;
  });
  if (redis instanceof Cluster) {
    // One lost node takes its slots away while the cluster connection stays up.
    redis.on('-node', (node: Redis) => log.warn({ node: `${node.options.host}:${node.options.port}` }, 'Redis cluster node connection lost'));
  }
  return () => {
    redis.off('close', lost);
    redis.off('reconnecting', lost);
    redis.removeAllListeners('-node');
  };
}

const UNAVAILABLE = new RegExp([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'Connection is closed', "Stream isn't writeable", 'timed out', 'max retries',
  'LOADING', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'READONLY',
  // Cluster: not ready yet, every node lost, or too many MOVED/ASK while slots move.
  "Cluster isn't ready", 'None of startup nodes is available', 'Failed to refresh slots cache', 'Too many Cluster redirections',
  // Sentinel: no sentinel answers, or the master it names is unreachable.
  'All sentinels are unreachable',
].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i');

/** Maps a connection-level failure to 503; anything else is rethrown unchanged (500). */
export function toStoreError(err: unknown): unknown {
  const message = err instanceof Error ? err.message : String(err);
  return UNAVAILABLE.test(message) ? new UnavailableError('secret store is unavailable, retry later') : err;
}
