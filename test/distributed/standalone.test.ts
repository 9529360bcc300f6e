/**
 * REDIS_MODE=standalone, the baseline for the cluster setups: a worker started before its
 * Redis waits for it, and the operation suite passes on one nats-server and one redis-server.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestIssuer } from '../helpers/identities.js';
import { freePort, NatsServer, RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { operationSuite } from './operations.js';

const issuer = new TestIssuer();
let nats: NatsServer | undefined;
let redis: RedisServer | undefined;
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;

beforeAll(async () => {
  nats = await NatsServer.start();
  redis = new RedisServer(await freePort());
});

afterAll(async () => {
  await worker?.stop();
  await nats?.stop();
  await redis?.cleanup();
});

it('a worker started before Redis waits for it, then serves', async () => {
  let started = false;
  const starting = startTestWorker(testEnv({
    natsUrl: nats!.url, redisUrl: redis!.url, issuers: [issuer.publicKey], extra: { REDIS_MODE: 'standalone' },
  })).then((w) => { started = true; return w; });
  starting.catch(() => {});
  await new Promise((r) => setTimeout(r, 1000));
  expect(started).toBe(false);
  await redis!.start();
  worker = await starting;
  expect(worker.redis.status).toBe('ready');
});

operationSuite('standalone', () => ({ natsServers: [nats!.url], issuer }));
