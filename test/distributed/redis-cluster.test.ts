/**
 * REDIS_MODE=cluster on a 3-master Redis Cluster: the worker waits for the cluster to be
 * ready, finds the slot of the deployment's hash tag from any seed, passes the operation
 * suite with every key in that one slot, answers 503 while that slot's master is down and
 * serves again when it returns.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCluster, redisCli, waitUntil } from '../helpers/cluster.js';
import { TestIssuer } from '../helpers/identities.js';
import { NatsServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { clientFor, operationSuite } from './operations.js';

type TestWorker = Awaited<ReturnType<typeof startTestWorker>>;

const issuer = new TestIssuer();
const PREFIX = 'secret-svc:';
const TAG_KEY = `${PREFIX}{s}:canary`;
let nats: NatsServer | undefined;
let cluster: RedisCluster | undefined;
let worker: TestWorker | undefined;

const KEY = randomBytes(32).toString('base64');
const envFor = (redisUrl: string) => testEnv({
  natsUrl: nats!.url, redisUrl, issuers: [issuer.publicKey], key: KEY, extra: { REDIS_MODE: 'cluster', SECRET_SVC_REDIS_PREFIX: PREFIX },
});

beforeAll(async () => {
  [nats, cluster] = await Promise.all([NatsServer.start(), RedisCluster.startNodes(3)]);
});

afterAll(async () => {
  await worker?.stop();
  await nats?.stop();
  await cluster?.cleanup();
});

describe('Redis Cluster (3 masters)', () => {
  it('waits for the cluster to be ready before the canary check and the first request', async () => {
    let started = false;
    const starting = startTestWorker(envFor(cluster!.url())).then((w) => { started = true; return w; });
    starting.catch(() => {});
    // The nodes run but hold no slots yet: the worker must keep waiting, not fail or serve.
    await new Promise((r) => setTimeout(r, 1500));
    expect(started).toBe(false);
    await cluster!.create();
    const first = await starting;
    expect(started).toBe(true);
    const owner = await cluster!.ownerOf(TAG_KEY);
    expect(await redisCli(owner.port, 'exists', TAG_KEY)).toBe('1');
    await first.stop();
  }, 60_000);

  it('finds the slot owner from seeds that do not own it', async () => {
    const owner = await cluster!.ownerOf(TAG_KEY);
    const others = cluster!.nodes.filter((n) => n !== owner);
    worker = await startTestWorker(envFor(cluster!.url(others)));
    const admin = await clientFor({ natsServers: [nats!.url], issuer }, issuer.caller('seed-admin', { admin: true }));
    try {
      await admin.create('seed/K', 'through a redirect');
      expect(await admin.read('seed/K')).toMatchObject({ value: 'through a redirect', version: 1 });
      expect(await redisCli(owner.port, 'exists', `${PREFIX}{s}:r:seed/K`)).toBe('1');
    } finally {
      await admin.close();
    }
  });
});

describe('Redis Cluster with a partial slot map', () => {
  // While a cluster forms, or after a refresh that followed a lost node, the client's slot map
  // can lack slots other than ours. Scripts must still be routed by their keys' slot.
  it('serves reads and writes while the client knows only the slot of the deployment', async () => {
    const slot = Number(await redisCli(cluster!.nodes[0]!.port, 'cluster', 'keyslot', TAG_KEY));
    const slots = (worker!.redis as unknown as { slots: unknown[] }).slots;
    const saved = [...slots];
    const admin = await clientFor({ natsServers: [nats!.url], issuer }, issuer.caller('partial-admin', { admin: true }), { retries: 0 });
    try {
      for (let i = 0; i < slots.length; i++) if (i !== slot) delete slots[i];
      await admin.create('partial/K', 'routed by its key');
      await admin.update('partial/K', { value: 'still routed' });
      expect(await admin.read('partial/K')).toMatchObject({ value: 'still routed', version: 2 });
      expect((await admin.list({ prefix: 'partial/' })).secrets.map((e) => e.key)).toEqual(['partial/K']);
    } finally {
      saved.forEach((v, i) => { slots[i] = v; });
      await admin.close();
    }
  });
});

operationSuite('redis cluster', () => ({ natsServers: [nats!.url], issuer }));

describe('Redis Cluster placement and faults', () => {
  it('keeps every key of the deployment in the one slot of its hash tag', async () => {
    const owner = await cluster!.ownerOf(TAG_KEY);
    const slot = await redisCli(owner.port, 'cluster', 'keyslot', TAG_KEY);
    const counts = await Promise.all(cluster!.nodes.map(async (n) => {
      const keys = (await redisCli(n.port, '--scan', '--pattern', `${PREFIX}*`)).split('\n').filter(Boolean);
      return { port: n.port, keys: keys.length, outsideTag: keys.filter((k) => !k.startsWith(`${PREFIX}{s}:`)).length };
    }));
    console.log(`[redis cluster] slot ${slot} on :${owner.port}; keys per node: ${counts.map((c) => `:${c.port}=${c.keys}`).join(' ')}`);
    for (const c of counts) {
      if (c.port === owner.port) expect(c.keys).toBeGreaterThan(10);
      else expect(c.keys).toBe(0);
      expect(c.outsideTag).toBe(0);
    }
    expect(Number(await redisCli(owner.port, 'cluster', 'countkeysinslot', slot))).toBe(counts.find((c) => c.port === owner.port)!.keys);
  });

  it("answers 503 while the slot's master is down and serves again when it returns, without a restart", async () => {
    const owner = await cluster!.ownerOf(TAG_KEY);
    const admin = await clientFor({ natsServers: [nats!.url], issuer }, issuer.caller('fault-admin', { admin: true }), { retries: 0, timeoutMs: 15_000 });
    try {
      await admin.create('fault/BEFORE', 'x');
      await owner.stop('SIGKILL');
      const down = await Promise.allSettled([admin.read('fault/BEFORE'), admin.create('fault/DURING', 'y'), admin.list()]);
      const statuses = down.map((r) => (r.status === 'rejected' ? (r.reason as { status?: number }).status : 'ok'));
      console.log(`[redis cluster] slot master down: replies ${statuses.join(', ')}`);
      expect(statuses).toEqual([503, 503, 503]);

      // Same port, same nodes.conf: it rejoins with its slots (its data is gone: no persistence here).
      await owner.start();
      await waitUntil('cluster_state:ok again', async () =>
        (await redisCli(owner.port, 'cluster', 'info')).includes('cluster_state:ok'));
      let attempts = 0;
      await waitUntil('the worker to serve again', async () => {
        attempts++;
        await admin.create(`fault/AFTER-${attempts}`, 'z');
        return true;
      }, 20_000);
      expect(await admin.read(`fault/AFTER-${attempts}`)).toMatchObject({ value: 'z', version: 1 });
      console.log(`[redis cluster] served again after ${attempts} attempt(s)`);
    } finally {
      await admin.close();
    }
  }, 60_000);
});
