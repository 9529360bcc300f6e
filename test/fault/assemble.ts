/**
 * A worker's request pipeline without its NATS connection, assembled as startWorker does
 * (src/worker.ts): for driving RequestHandler.handle directly, or for serving it on a NATS
 * connection the test opens itself (e.g. with credentials the worker cannot take yet).
 */
import { loadConfig, type Config } from '../../src/config.js';
import { RequestHandler } from '../../src/handler.js';
import { createLogger } from '../../src/log.js';
import { checkCanary } from '../../src/store/canary.js';
import { RedisKeys } from '../../src/store/keys.js';
import { connectRedis, createRedis } from '../../src/store/redis.js';
import { Sealer } from '../../src/store/seal.js';
import { SecretStore } from '../../src/store/secret-store.js';

export interface Pipeline {
  config: Config;
  handler: RequestHandler;
  log: ReturnType<typeof createLogger>;
  close(): void;
}

export async function assemblePipeline(env: Record<string, string>): Promise<Pipeline> {
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  const sealer = new Sealer(config.encryptionKey);
  const keys = new RedisKeys(config.redisPrefix);
  const redis = createRedis(config.redis);
  redis.on('error', () => {});
  await connectRedis(redis, config.redis, log);
  await checkCanary(redis, keys, sealer);
  const handler = new RequestHandler({ config, store: new SecretStore(redis, keys), sealer, log, maxReplyBytes: () => 1024 * 1024 });
  return { config, handler, log, close: () => redis.disconnect() };
}
