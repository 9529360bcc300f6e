/**
 * nats-server restarted (same port) under load: both workers reconnect and serve again,
 * and clients' reads (re-signed on each retry) and writes (resent identically) succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { SecretClient } from '@secret-svc/client';
import { TestIssuer } from '../helpers/identities.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { runLoad, sleep, Tally, waitUntil } from './support.js';

type TestWorker = Awaited<ReturnType<typeof startTestWorker>>;

/** Counts the reconnects a connection reports. */
function countReconnects(nc: NatsConnection): { reconnects: number } {
  const seen = { reconnects: 0 };
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') seen.reconnects++;
  })().catch(() => {});
  return seen;
}

describe('nats-server restarted under load', { timeout: 60_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  const workers: TestWorker[] = [];
  const clients: SecretClient[] = [];
  const clientConnections: NatsConnection[] = [];
  let clientReconnects: { reconnects: number }[] = [];
  const issuer = new TestIssuer();
  const caller = issuer.caller('bus-svc');

  beforeAll(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    const env = testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey] });
    workers.push(await startTestWorker(env), await startTestWorker(env));
    for (let i = 0; i < 4; i++) {
      const nc = await connect({ servers: nats.url, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
      clientConnections.push(nc);
      clients.push(await SecretClient.connect({
        nc, credential: caller.credential, key: caller.key, encoding: i % 2 ? 'json' : 'msgpack',
        timeoutMs: 30_000, attemptTimeoutMs: 1000, retries: 8, retryDelayMs: 100,
      }));
    }
    clientReconnects = clientConnections.map(countReconnects);
  });

  afterAll(async () => {
    await Promise.allSettled(clientConnections.map((nc) => nc.close()));
    await Promise.allSettled(workers.map((w) => w.stop()));
    await nats?.stop();
    await redis?.cleanup();
  });

  it('workers reconnect and clients succeed after their retries', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `bus-svc/K${i}`);
    for (const key of keys) await clients[0]!.create(key, `value of ${key}`);
    const counter = 'bus-svc/COUNTER';
    await clients[0]!.create(counter, '0');

    const workerReconnects = workers.map((w) => countReconnects(w.nc));
    const reads = new Tally();
    const writes = new Tally();
    const writeVersions: number[] = [];
    const load = runLoad(12, async (loop, i) => {
      const client = clients[loop % clients.length]!;
      if (loop < 10) {
        const key = keys[(loop + i) % keys.length]!;
        reads.sent++;
        try {
          const secret = await client.read(key);
          reads.count(200);
          if (secret.value !== `value of ${key}`) reads.wrong.push(key);
        } catch (err) {
          reads.unanswered++;
          reads.wrong.push(String(err));
        }
      } else {
        writes.sent++;
        try {
          const meta = await client.update(counter, { value: `${loop}-${i}` });
          writes.count(200);
          writeVersions.push(meta.version);
        } catch (err) {
          writes.unanswered++;
          writes.wrong.push(String(err));
        }
      }
    });

    await sleep(600);
    const readsBefore = reads.answered;
    await nats.restart();
    await waitUntil(() => workerReconnects.every((w) => w.reconnects > 0), 'both workers to reconnect');
    const readsAtReconnect = reads.answered;
    await sleep(1000);
    await load.stop();

    // Both workers serve after the restart: each answers requests sent to it directly by queue group.
    const served = workers.map((w) => w.service.stats.get('read')!.counters().num_requests);
    const servedBefore = [...served];
    const after = new Tally();
    await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      after.sent++;
      const secret = await clients[i % clients.length]!.read(keys[i % keys.length]!);
      if (secret.value === `value of ${keys[i % keys.length]}`) after.count(200);
    }));
    const servedAfter = workers.map((w) => w.service.stats.get('read')!.counters().num_requests);

    const final = await clients[0]!.read(counter);
    console.log(`reads ${reads.summary()}; before restart ${readsBefore}, by reconnect ${readsAtReconnect}`);
    console.log(`writes ${writes.summary()}; counter version ${final.version} = 1 + ${writeVersions.length} acknowledged updates`);
    console.log(`reconnects: workers ${workerReconnects.map((w) => w.reconnects).join(', ')}, clients ${clientReconnects.map((c) => c.reconnects).join(', ')}; reads served per worker after restart ${servedAfter.map((n, i) => n - servedBefore[i]!).join(', ')}`);

    expect(reads.wrong).toEqual([]);
    expect(reads.answered).toBe(reads.sent);
    expect(writes.wrong).toEqual([]);
    expect(writes.answered).toBe(writes.sent);
    // Each acknowledged update applied exactly once: versions 2..1+n, no gaps, no repeats.
    expect(final.version).toBe(1 + writeVersions.length);
    expect([...writeVersions].sort((a, b) => a - b)).toEqual(Array.from({ length: writeVersions.length }, (_, i) => i + 2));
    expect(after.answered).toBe(40);
    expect(reads.answered).toBeGreaterThan(readsAtReconnect); // load went on after the restart
    expect(clientReconnects.every((c) => c.reconnects > 0)).toBe(true);
    for (let i = 0; i < workers.length; i++) expect(servedAfter[i]!).toBeGreaterThan(servedBefore[i]!);
  });
});
