/** Assembles a worker: Redis (with the canary check), NATS, the request pipeline and the service. */
import { connect, type NatsConnection } from 'nats';
import { OPS } from '@secret-svc/protocol';
import type { Config, StoreConfig } from './config.js';
import type { Logger } from './log.js';
import { RequestPipeline } from './pipeline.js';
import { createOperations } from './ops/index.js';
import { KeyedQueue } from './ops/keyed-queue.js';
import { SecretService } from './service.js';
import { checkCanary } from './store/canary.js';
import { checkEviction } from './store/eviction.js';
import { checkPersistence } from './store/persistence.js';
import { RedisKeys } from './store/keys.js';
import { connectRedis, createRedis, watchRedis, type RedisHandle } from './store/redis.js';
import { describeRedisTarget } from './store/redis-target.js';
import { Sealer } from './store/seal.js';
import { SecretStore } from './store/secret-store.js';

/** nats-server's default max_payload, until the connected server says otherwise. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export interface Worker {
  nc: NatsConnection;
  redis: RedisHandle;
  service: SecretService;
  /** Drains (every accepted request answered), then closes NATS and Redis. */
  stop(): Promise<void>;
}

/** The store side of a worker: Redis connected and ready, the key checked against the data. */
export interface OpenStore {
  redis: RedisHandle;
  store: SecretStore;
  canary: 'created' | 'verified';
}

/** Connects Redis (waiting for it), refuses a wrong keyring or an evicting Redis, warns when nothing is persisted. */
export async function openStore(config: StoreConfig, log: Logger, signal?: AbortSignal): Promise<OpenStore> {
  const sealer = new Sealer(config.encryptionKeys);
  const keys = new RedisKeys(config.redisPrefix);
  const redis = createRedis(config.redis);
  redis.on('error', () => {}); // outages are logged by watchRedis, not per failed attempt
  await connectRedis(redis, config.redis, log, signal);
  try {
    const eviction = await checkEviction(redis);
    if (eviction) log.warn({ redis: describeRedisTarget(config.redis) }, eviction);
    const store = new SecretStore(redis, keys, sealer, { maxVersions: config.maxVersions });
    const canary = await checkCanary(store, config.keyringVariable);
    const persistence = await checkPersistence(redis);
    if (persistence) log.warn({ redis: describeRedisTarget(config.redis) }, persistence);
    return { redis, store, canary };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}

export interface WorkerOptions {
  /** Aborts waiting for Redis at startup. */
  signal?: AbortSignal;
  /** The worker's clock (epoch ms); tests inject a skewed one. */
  now?: () => number;
}

export async function startWorker(config: Config, log: Logger, opts: WorkerOptions = {}): Promise<Worker> {
  const { redis, store, canary } = await openStore(config, log, opts.signal);
  const unwatchRedis = watchRedis(redis, log);
  try {
    let nc: NatsConnection | undefined;
    const maxReplyBytes = () => nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
    const runOp = createOperations({ store, maxValueBytes: config.maxValueBytes, maxReplyBytes, writes: new KeyedQueue() });
    const pipeline = new RequestPipeline({ config, log, now: opts.now, runOp, maxReplyBytes });
    nc = await connect({
      ...config.natsAuth,
      servers: config.natsServers,
      name: 'secret-svc-worker',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      noAsyncTraces: true,
    });
    watchNats(nc, log);
    const service = await SecretService.start(nc, pipeline, config, log);
    log.info({
      nats: nc.getServer(),
      redis: describeRedisTarget(config.redis),
      redisPrefix: config.redisPrefix,
      subjects: `${config.subjectPrefix}.{${OPS.join(',')}}`,
      queue: config.queue,
      audience: config.audience,
      inFlight: { max: config.maxInFlight, bytes: config.maxInFlightBytes, perCaller: config.maxInFlightPerCaller },
      issuers: config.issuers.length,
      encryptionKeyId: store.keyIdText,
      canary,
    }, 'secret-svc worker serving');
    return {
      nc, redis, service,
      async stop() {
        await service.stop();
        await nc.drain();
        unwatchRedis(); // closing it ourselves is not an outage
        redis.disconnect();
      },
    };
  } catch (err) {
    unwatchRedis();
    redis.disconnect();
    throw err;
  }
}

function watchNats(nc: NatsConnection, log: Logger): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ server: String(s.data) }, `NATS ${s.type}`);
    }
  })().catch(() => {});
}
