/** The Redis connection: fail fast while Redis is away (503), reconnect forever. */
import { Redis } from 'ioredis';
import { UnavailableError } from '../../client/src/protocol/index.js';

export function createRedis(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    // No offline queue: a request while Redis is away gets 503 at once instead of waiting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    reconnectOnError: () => false,
  });
}

const UNAVAILABLE = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|Connection is closed|Stream isn't writeable|timed out|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|max retries/i;

/** Maps a connection-level failure to 503; anything else is rethrown unchanged (500). */
export function toStoreError(err: unknown): unknown {
  const message = err instanceof Error ? err.message : String(err);
  return UNAVAILABLE.test(message) ? new UnavailableError('secret store is unavailable, retry later') : err;
}
