/**
 * The store as `keys status` and `keys rewrap` open it: from a worker's environment, but
 * only the keyring and Redis variables (loadStoreConfig); no canary check, so `status`
 * also works with a ring that opens nothing (it only counts). REDIS_URL and the keyring must
 * be given: unlike a worker, these commands never fall back to a default Redis (a rewrap
 * would write into whatever answers there).
 */
import { ConfigError, loadStoreConfig } from '../../../config.js';
import { KEYRING_ENV } from '../../../keyring-source.js';
import { createLogger } from '../../../log.js';
import { RedisKeys } from '../../../store/keys.js';
import { connectRedis, createRedis } from '../../../store/redis.js';
import { describeRedisTarget } from '../../../store/redis-target.js';
import { Sealer } from '../../../store/seal.js';
import { SecretStore } from '../../../store/secret-store.js';
import { CliError, EXIT, UsageError } from '../../lib/exit-codes.js';
import { streams } from '../../lib/streams.js';

/** An operator command waits this long for Redis, then gives up (exit 7). */
const REDIS_WAIT_MS = 10_000;

export async function withOperatorStore<T>(fn: (store: SecretStore) => Promise<T>, env: NodeJS.ProcessEnv = { ...streams().env }): Promise<T> {
  const missing = [
    ...(env.REDIS_URL ? [] : ['REDIS_URL (the Redis of the deployment; there is no default)']),
    ...(KEYRING_ENV.some((name) => env[name]) ? [] : [`a keyring (one of ${KEYRING_ENV.join(', ')})`]),
  ];
  if (missing.length) {
    throw new UsageError(`missing ${missing.join(' and ')}: run this with a worker's environment; for \`secret-svc dev\`'s: ` +
      '(eval "$(secret-svc dev --print-worker-env)"; secret-svc keys …)');
  }
  let config;
  try {
    config = loadStoreConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // A failed key command keeps its own exit status, as for a worker.
    throw err.exitCode === 2 ? new UsageError(err.message) : new CliError(err.message, err.exitCode);
  }
  const redis = createRedis(config.redis);
  redis.on('error', () => {});
  try {
    await connectRedis(redis, config.redis, createLogger('silent'), AbortSignal.timeout(REDIS_WAIT_MS));
  } catch {
    throw new CliError(`cannot reach Redis at ${describeRedisTarget(config.redis)} within ${REDIS_WAIT_MS / 1000} s (REDIS_URL, REDIS_MODE)`, EXIT.unavailable);
  }
  try {
    const store = new SecretStore(redis, new RedisKeys(config.redisPrefix), new Sealer(config.encryptionKeys), { maxVersions: config.maxVersions, watchHistory: config.watchHistory });
    return await fn(store);
  } finally {
    redis.disconnect();
  }
}
