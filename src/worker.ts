/** Assembles a worker: Redis (with the canary check), NATS, the handler and the service. */
import { connect, type NatsConnection } from 'nats';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { RequestHandler } from './handler.js';
import type { Logger } from './log.js';
import { SecretService } from './service.js';
import { checkCanary } from './store/canary.js';
import { RedisKeys } from './store/keys.js';
import { createRedis } from './store/redis.js';
import { Sealer } from './store/seal.js';
import { SecretStore } from './store/secret-store.js';

export interface Worker {
  nc: NatsConnection;
  redis: Redis;
  service: SecretService;
  /** Drains (every accepted request answered), then closes NATS and Redis. */
  stop(): Promise<void>;
}

export async function startWorker(config: Config, log: Logger, opts: { signal?: AbortSignal } = {}): Promise<Worker> {
  const sealer = new Sealer(config.encryptionKey);
  const keys = new RedisKeys(config.redisPrefix);
  const redis = createRedis(config.redisUrl);
  redis.on('error', () => {}); // reconnection is logged below, not per failed attempt
  await connectRedis(redis, config.redisUrl, log, opts.signal);
  watchRedis(redis, log);
  try {
    const canary = await checkCanary(redis, keys, sealer);
    const store = new SecretStore(redis, keys);
    const handler = new RequestHandler({ config, store, sealer, log });
    const nc = await connect({
      servers: config.natsServers,
      name: 'secret-svc-worker',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      noAsyncTraces: true,
    });
    watchNats(nc, log);
    const service = await SecretService.start(nc, handler, config, log);
    log.info({
      nats: nc.getServer(),
      redis: redactUrl(config.redisUrl),
      redisPrefix: config.redisPrefix,
      subjects: `${config.subjectPrefix}.{whoami,read,list,create,update,delete}`,
      queue: config.queue,
      audience: config.audience,
      issuers: config.issuers.length,
      encryptionKeyId: sealer.keyIdText,
      canary,
    }, 'secret-svc worker serving');
    return {
      nc, redis, service,
      async stop() {
        await service.stop();
        await nc.drain();
        redis.disconnect();
      },
    };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}

/** Waits for Redis at startup (it may start after us), reporting each failure once per phase. */
async function connectRedis(redis: Redis, url: string, log: Logger, signal?: AbortSignal): Promise<void> {
  let warned = false;
  for (;;) {
    try {
      await redis.connect();
      return;
    } catch (err) {
      if (signal?.aborted) throw new Error('stopped while waiting for Redis');
      if (!warned) log.warn({ redis: redactUrl(url), err: (err as Error).message }, 'waiting for Redis');
      warned = true;
      redis.disconnect();
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function watchRedis(redis: Redis, log: Logger): void {
  let down = false;
  redis.on('close', () => {
    if (!down) log.warn('Redis connection lost: answering 503 until it returns');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info('Redis connection restored');
    down = false;
  });
}

function watchNats(nc: NatsConnection, log: Logger): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ server: String(s.data) }, `NATS ${s.type}`);
    }
  })().catch(() => {});
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
