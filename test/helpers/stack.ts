/**
 * One integration "stack": its own nats-server and redis-server on free ports, a trusted
 * issuer, one in-process worker (more on demand), a plain NATS connection for raw requests,
 * and SecretClients on demand. stop() tears everything down that it started.
 */
import { Redis } from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { SecretClient, type ClientOptions, type Encoding } from '../../client/src/index.js';
import { TestIssuer, type TestCaller } from './identities.js';
import { NatsServer, RedisServer } from './servers.js';
import { startTestWorker, testEnv } from './worker.js';

export type TestWorker = Awaited<ReturnType<typeof startTestWorker>>;

export interface Stack {
  nats: NatsServer;
  redis: RedisServer;
  issuer: TestIssuer;
  env: Record<string, string>;
  worker: TestWorker;
  /** A plain NATS connection that speaks only PROTOCOL.md (raw envelopes). */
  nc: NatsConnection;
  /** A direct Redis connection, to inspect or tamper with what the worker stored. */
  redisClient(): Redis;
  /** Another worker on the same NATS and Redis (same queue group). */
  addWorker(): Promise<TestWorker>;
  client(caller: TestCaller, encoding: Encoding, extra?: Partial<ClientOptions>): Promise<SecretClient>;
  stop(): Promise<void>;
}

export async function startStack(o: { extra?: Record<string, string>; key?: string } = {}): Promise<Stack> {
  const [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
  const issuer = new TestIssuer();
  const env = testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey], key: o.key, extra: o.extra });
  const workers: TestWorker[] = [];
  const clients: SecretClient[] = [];
  const redisClients: Redis[] = [];
  const worker = await startTestWorker(env);
  workers.push(worker);
  const nc = await connect({ servers: nats.url, noAsyncTraces: true, maxReconnectAttempts: -1 });
  return {
    nats, redis, issuer, env, worker, nc,
    redisClient() {
      const r = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      redisClients.push(r);
      return r;
    },
    async addWorker() {
      const w = await startTestWorker(env);
      workers.push(w);
      return w;
    },
    async client(caller, encoding, extra = {}) {
      const c = await SecretClient.connect({
        nc, credential: caller.credential, key: caller.key, encoding, retries: 0, timeoutMs: 10_000,
        subjectPrefix: env.SECRET_SVC_SUBJECT_PREFIX, audience: env.SECRET_SVC_AUDIENCE, ...extra,
      });
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.allSettled(clients.map((c) => c.close()));
      for (const r of redisClients) r.disconnect();
      await Promise.allSettled(workers.map((w) => w.stop()));
      await nc.close().catch(() => {});
      await nats.stop();
      await redis.cleanup();
    },
  };
}
