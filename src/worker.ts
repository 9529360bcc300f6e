/** Assembles a worker: Redis (with the canary check), NATS, the audit trail, the request pipeline and the service. */
import { connect, type NatsConnection } from 'nats';
import { OPS, useSecretbox } from '@secret-svc/protocol/internal';
import { NATIVE_SECRETBOX, workerSecretbox } from './crypto/native-secretbox.js';
import { AuditedReplies, createAuditTrail, type AuditTrail } from './audit/index.js';
import type { Config, StoreConfig } from './config.js';
import type { Logger } from './log.js';
import { RequestPipeline } from './pipeline.js';
import { refuseRevoked, revocationHintSubject, RevocationSet, RevocationWatcher } from './revocation/index.js';
import { createOperations } from './ops/index.js';
import { KeyedQueue } from './ops/keyed-queue.js';
import { SecretService } from './service.js';
import { TicketBox } from './session/tickets.js';
import { checkCanary } from './store/canary.js';
import { checkEviction } from './store/eviction.js';
import { checkPersistence } from './store/persistence.js';
import { RedisKeys } from './store/keys.js';
import { connectRedis, createRedis, watchRedis, type RedisHandle } from './store/redis.js';
import { describeRedisTarget } from './store/redis-target.js';
import { Sealer } from './store/seal.js';
import { SecretStore } from './store/secret-store.js';
import { changeHintSubject, WatchHub } from './watch/hub.js';

/** nats-server's default max_payload, until the connected server says otherwise. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export interface Worker {
  nc: NatsConnection;
  redis: RedisHandle;
  service: SecretService;
  /** Keeps this worker's revocation set equal to the store's. */
  revocations: RevocationWatcher;
  /** The audit trail (docs/protocol.md §11); an OffAuditTrail with SECRET_SVC_AUDIT=off. */
  audit: AuditTrail;
  /** The held watches and the change-log follower (docs/protocol.md §14). */
  watches: WatchHub;
  /** Drains (every accepted request answered), then closes NATS and Redis. */
  stop(): Promise<void>;
}

/** The store side of a worker: Redis connected and ready, the key checked against the data. */
export interface OpenStore {
  redis: RedisHandle;
  store: SecretStore;
  /** The keyring: what other keys are derived from (session tickets). */
  sealer: Sealer;
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
    const store = new SecretStore(redis, keys, sealer, { maxVersions: config.maxVersions, watchHistory: config.watchHistory });
    const canary = await checkCanary(store, config.keyringVariable);
    const persistence = await checkPersistence(redis);
    if (persistence) log.warn({ redis: describeRedisTarget(config.redis) }, persistence);
    return { redis, store, sealer, canary };
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
  /** How often the audit stream's settings are checked (docs/protocol.md §15); tests shorten it. */
  auditCheckMs?: number;
}

export async function startWorker(config: Config, log: Logger, opts: WorkerOptions = {}): Promise<Worker> {
  // Session payloads and replies with libsodium too (the store's values already are).
  useSecretbox(workerSecretbox);
  const { redis, store, sealer, canary } = await openStore(config, log, opts.signal);
  const unwatchRedis = watchRedis(redis, log);
  let nc: NatsConnection | undefined;
  try {
    const maxReplyBytes = () => nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
    // Bound to this deployment (docs/protocol.md §15): another one sharing the keyring cannot open them.
    const tickets = new TicketBox(sealer, { audience: config.audience, subjectPrefix: config.subjectPrefix });
    const sessions = { tickets, ttlMs: config.sessionTtlMs, serviceKey: config.serviceKey };
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
    // Before serving: with SECRET_SVC_AUDIT=jetstream a worker whose NATS has no JetStream
    // refuses to start (AuditStartError names the setting).
    const audit = createAuditTrail(nc, config.audit, { subjectPrefix: config.subjectPrefix, log, checkMs: opts.auditCheckMs });
    await audit.start();
    const replies = new AuditedReplies(audit, log, opts.now);
    const watches = new WatchHub({
      store, bus: nc, subject: changeHintSubject(config.subjectPrefix), log,
      maxWatches: config.maxWatches, maxWatchesPerCaller: config.maxWatchesPerCaller,
    });
    // Loaded before serving: a worker that cannot read the revocations does not start.
    const revoked = new RevocationSet();
    const refuse = refuseRevoked(revoked);
    const revocations = new RevocationWatcher({
      source: store.revocations, bus: nc, subject: revocationHintSubject(config.subjectPrefix), log, set: revoked,
      // A revoked credential's held watches get 401 at once (docs/protocol.md §14).
      onChange: () => watches.refuse(refuse),
    });
    let service: SecretService;
    try {
      await revocations.start();
      await watches.start();
      const revocationsChanged = async () => {
        // The change is stored; a failed re-read here is retried by the watcher's poll.
        await revocations.refresh().catch(() => {});
        revocations.notify();
      };
      const runOp = createOperations({
        store, maxValueBytes: config.maxValueBytes, writes: new KeyedQueue(), revocationsChanged, sessions, watches,
      });
      const pipeline = new RequestPipeline({
        config, log, now: opts.now, runOp, maxReplyBytes, tickets, checkCaller: refuse, intake: replies.intake,
      });
      service = await SecretService.start(nc, pipeline, replies, config, log);
    } catch (err) {
      await watches.stop();
      await revocations.stop();
      await audit.stop();
      throw err;
    }
    log.info({
      nats: nc.getServer(),
      redis: describeRedisTarget(config.redis),
      redisPrefix: config.redisPrefix,
      subjects: `${config.subjectPrefix}.{${OPS.join(',')}}`,
      queue: config.queue,
      audience: config.audience,
      inFlight: { max: config.maxInFlight, bytes: config.maxInFlightBytes, perCaller: config.maxInFlightPerCaller, replyBytes: config.maxReplyBytes },
      perCaller: { work: config.maxWorkPerCaller, replyBytes: config.maxReplyBytesPerCaller, handshakesPerSecond: config.maxHandshakesPerCaller },
      issuers: config.issuers.length,
      encryptionKeyId: store.keyIdText,
      cipher: NATIVE_SECRETBOX ? 'libsodium' : 'tweetnacl',
      canary,
      revocations: revocations.set.size,
      audit: config.audit.mode === 'off' ? 'off' : config.audit.stream,
    }, 'secret-svc worker serving');
    const connection = nc;
    return {
      nc: connection, redis, service, revocations, audit, watches,
      async stop() {
        // Held watches are answered first (as if their wait ran out); a watch arriving while draining is answered at once.
        await watches.stop();
        await service.stop();
        await revocations.stop();
        // Every answered request's event stored (or logged) before the connection goes.
        await audit.stop();
        await connection.drain();
        unwatchRedis(); // closing it ourselves is not an outage
        redis.disconnect();
      },
    };
  } catch (err) {
    await nc?.close().catch(() => {});
    unwatchRedis();
    redis.disconnect();
    throw err;
  }
}

/** At most one log line per this interval for errors NATS reports on the connection. */
const NATS_ERROR_LOG_MS = 1000;

function watchNats(nc: NatsConnection, log: Logger): void {
  let errors = 0;
  let loggedAt = 0;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ server: String(s.data) }, `NATS ${s.type}`);
      if (s.type !== 'error') continue;
      // E.g. a permissions violation: a refused publish (a reply to a subject this user may not
      // use) or subscription. The connection stays; count them, log at most once a second.
      errors++;
      const now = Date.now();
      if (now - loggedAt < NATS_ERROR_LOG_MS) continue;
      const refused = s.permissionContext;
      log.warn({ err: String(s.data), ...(refused ? { operation: refused.operation, subject: refused.subject } : {}), count: errors }, 'NATS reported an error');
      errors = 0;
      loggedAt = now;
    }
  })().catch(() => {});
}
