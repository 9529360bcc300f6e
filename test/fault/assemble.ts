/**
 * A worker's request pipeline without its NATS connection, built from the worker's own
 * openStore (src/worker.ts): for driving RequestHandler.handle directly.
 */
import { loadConfig, type Config } from '../../src/config.js';
import { RequestHandler } from '../../src/handler.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/worker.js';

export interface Pipeline {
  config: Config;
  handler: RequestHandler;
  log: ReturnType<typeof createLogger>;
  close(): void;
}

export async function assemblePipeline(env: Record<string, string>): Promise<Pipeline> {
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  const { redis, store } = await openStore(config, log);
  const handler = new RequestHandler({ config, store, log, maxReplyBytes: () => 1024 * 1024 });
  return { config, handler, log, close: () => redis.disconnect() };
}
