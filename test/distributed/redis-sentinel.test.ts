/**
 * REDIS_MODE=sentinel with one master, one replica and one sentinel: the worker finds the
 * master through the sentinel, passes the operation suite, and after SENTINEL FAILOVER it
 * serves from the promoted replica (replicated secrets intact, new writes on the new master).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSentinelSet, redisCli } from '../helpers/cluster.js';
import { TestIssuer } from '../helpers/identities.js';
import { NatsServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { clientFor, operationSuite } from './operations.js';

const issuer = new TestIssuer();
const PREFIX = 'secret-svc:';
let nats: NatsServer | undefined;
let set: RedisSentinelSet | undefined;
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;

beforeAll(async () => {
  [nats, set] = await Promise.all([NatsServer.start(), RedisSentinelSet.start()]);
  worker = await startTestWorker(testEnv({
    natsUrl: nats.url, redisUrl: set.url, issuers: [issuer.publicKey],
    extra: { REDIS_MODE: 'sentinel', REDIS_SENTINEL_MASTER: set.masterName, SECRET_SVC_REDIS_PREFIX: PREFIX },
  }));
}, 45_000);

afterAll(async () => {
  await worker?.stop();
  await nats?.stop();
  await set?.cleanup();
});

describe('Redis Sentinel', () => {
  it('stores on the master the sentinel names', async () => {
    const admin = await clientFor({ natsServers: [nats!.url], issuer }, issuer.caller('sentinel-admin', { admin: true }));
    try {
      await admin.create('where/K', 'on the master');
      expect(await set!.masterPort()).toBe(set!.master.port);
      expect(await redisCli(set!.master.port, 'exists', `${PREFIX}{s}:r:where/K`)).toBe('1');
    } finally {
      await admin.close();
    }
  });
});

operationSuite('redis sentinel', () => ({ natsServers: [nats!.url], issuer }));

describe('Redis Sentinel failover', () => {
  it('serves from the promoted replica after SENTINEL FAILOVER', async () => {
    const admin = await clientFor({ natsServers: [nats!.url], issuer }, issuer.caller('failover-admin', { admin: true }), { retries: 0 });
    try {
      await admin.create('failover/BEFORE', 'replicated');
      // Make sure the replica has it before it is promoted (replication is asynchronous).
      expect(Number(await redisCli(set!.master.port, 'wait', '1', '5000'))).toBe(1);

      const { from, to } = await set!.failover();
      expect(to).toBe(set!.replica);
      expect(from).toBe(set!.master);

      // Until the worker has moved to the new master, only 503 is an acceptable answer.
      const deadline = Date.now() + 20_000;
      let unavailable = 0;
      for (;;) {
        try {
          await admin.create('failover/AFTER', 'on the new master');
          break;
        } catch (err) {
          if ((err as { status?: number }).status !== 503 || Date.now() > deadline) throw err;
          unavailable++;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      console.log(`[redis sentinel] failover :${from.port} -> :${to.port}; ${unavailable} x 503 before the first write succeeded`);
      expect(await redisCli(to.port, 'exists', `${PREFIX}{s}:r:failover/AFTER`)).toBe('1');
      expect(await admin.read('failover/BEFORE')).toMatchObject({ value: 'replicated', version: 1 });
      expect(await admin.read('failover/AFTER')).toMatchObject({ value: 'on the new master', version: 1 });
      expect(await admin.update('failover/BEFORE', { value: 'updated', ifVersion: 1 })).toMatchObject({ version: 2 });
    } finally {
      await admin.close();
    }
  }, 60_000);
});
