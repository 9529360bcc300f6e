/**
 * One integration "stack": its own nats-server and redis-server on free ports, a trusted
 * issuer, one in-process worker (more on demand), a plain NATS connection for raw requests,
 * and SecretClients on demand. stop() tears everything down that it started.
 *
 * With TEST_REDIS_MODE=cluster (the "integration on Redis Cluster" vitest project) the Redis
 * is a 3-master Redis Cluster and the worker runs with REDIS_MODE=cluster; `redis` is then
 * the master that owns the deployment's hash slot, so stopping it takes the data away and a
 * direct connection to it sees every key.
 */
import { Redis } from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { SecretClient, type ClientOptions } from '@secret-svc/client';
import { type Encoding } from '@secret-svc/protocol';
import { TestIssuer, type TestCaller } from './identities.js';
import { RedisCluster } from './cluster.js';
import { NatsServer, RedisServer } from './servers.js';
import { startLoggedWorker, startTestWorker, testEnv } from './worker.js';
import type { WorkerOptions } from '../../src/worker.js';

export type TestWorker = Awaited<ReturnType<typeof startTestWorker>>;

export interface Stack {
  nats: NatsServer;
  redis: RedisServer;
  issuer: TestIssuer;
  env: Record<string, string>;
  worker: TestWorker;
  /** A plain NATS connection that speaks only docs/protocol.md (raw envelopes). */
  nc: NatsConnection;
  /** A direct Redis connection, to inspect or tamper with what the worker stored. */
  redisClient(): Redis;
  /** Another worker on the same NATS and Redis (same queue group). */
  addWorker(): Promise<TestWorker>;
  client(caller: TestCaller, encoding: Encoding, extra?: Partial<ClientOptions>): Promise<SecretClient>;
  stop(): Promise<void>;
}

export const CLUSTER_MODE = process.env.TEST_REDIS_MODE === 'cluster';

interface RedisUnderTest {
  /** The server holding the data (in a cluster: the master of the `{s}` slot). */
  server: RedisServer;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

async function startRedis(prefix: string): Promise<RedisUnderTest> {
  if (!CLUSTER_MODE) {
    const server = await RedisServer.start();
    return { server, env: {}, cleanup: () => server.cleanup() };
  }
  const cluster = await RedisCluster.start();
  return {
    server: await cluster.ownerOf(`${prefix}{s}:all`),
    env: { REDIS_MODE: 'cluster', REDIS_URL: cluster.url() },
    cleanup: () => cluster.cleanup(),
  };
}

export async function startStack(o: { extra?: Record<string, string>; key?: string } = {}): Promise<Stack> {
  const [nats, store] = await Promise.all([NatsServer.start(), startRedis(o.extra?.SECRET_SVC_REDIS_PREFIX ?? 'secret-svc:')]);
  const redis = store.server;
  const issuer = new TestIssuer();
  const env = testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey], key: o.key, extra: { ...o.extra, ...store.env } });
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
      await store.cleanup();
    },
  };
}

/**
 * A stack whose own worker serves another prefix with no trail, and a worker with a captured
 * log alone on `secret.*` with the audit trail on: for tests of what one worker logs and audits.
 */
export async function startStackWithLoggedWorker(opts: WorkerOptions = {}): Promise<{ stack: Stack; worker: Awaited<ReturnType<typeof startLoggedWorker>> }> {
  const stack = await startStack({ extra: { SECRET_SVC_SUBJECT_PREFIX: 'idle', SECRET_SVC_AUDIT: 'off' } });
  const worker = await startLoggedWorker({ ...stack.env, SECRET_SVC_SUBJECT_PREFIX: 'secret', SECRET_SVC_AUDIT: 'jetstream' }, opts);
  return { stack, worker };
}
