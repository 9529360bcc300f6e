/**
 * A 3-node NATS cluster: worker and client list every node (NATS_URL / `servers`). Killing
 * the node the worker is connected to, under a read load, loses no request: every read is
 * answered (after client retries), and the worker serves from another node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsCluster } from '../helpers/cluster.js';
import { TestIssuer } from '../helpers/identities.js';
import { RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { clientFor } from './operations.js';

const issuer = new TestIssuer();
let nats: NatsCluster | undefined;
let redis: RedisServer | undefined;
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;

beforeAll(async () => {
  [nats, redis] = await Promise.all([NatsCluster.start(3), RedisServer.start()]);
  worker = await startTestWorker(testEnv({ natsUrl: nats.urls.join(','), redisUrl: redis.url, issuers: [issuer.publicKey] }));
}, 45_000);

afterAll(async () => {
  await worker?.stop();
  await nats?.stop();
  await redis?.cleanup();
});

describe('NATS cluster (3 nodes)', () => {
  it('keeps answering when the node the worker is connected to dies', async () => {
    const d = { natsServers: nats!.urls, issuer };
    const caller = issuer.caller('nats-app');
    // Interest crosses the routes asynchronously: "no responders" is retried like a timeout.
    const writer = await clientFor(d, caller, { retries: 8, timeoutMs: 30_000 });
    // Reads are re-signed on each retry; the retries bridge the worker's reconnect.
    const reader = await clientFor(d, caller, { retries: 8, timeoutMs: 30_000, attemptTimeoutMs: 2000, retryDelayMs: 100 });
    try {
      const keys = Array.from({ length: 5 }, (_, i) => `nats-app/K${i}`);
      for (const key of keys) await writer.create(key, `value of ${key}`);

      const workerNode = nats!.nodeOf(worker!.nc.getServer());
      expect(workerNode).toBeDefined();

      let sent = 0;
      let answered = 0;
      let stop = false;
      const failures: unknown[] = [];
      const loop = async (id: number) => {
        for (let i = 0; !stop || i < 5; i++) {
          const key = keys[(id + i) % keys.length]!;
          sent++;
          try {
            const secret = await reader.read(key);
            if (secret.value !== `value of ${key}`) throw new Error(`wrong value for ${key}`);
            answered++;
          } catch (err) {
            failures.push(err);
            return;
          }
        }
      };
      const loops = Array.from({ length: 4 }, (_, id) => loop(id));
      await until(() => answered >= 40 || failures.length > 0);
      const beforeKill = answered;
      await workerNode!.stop('SIGKILL');
      const killedAt = sent;
      // Keep the load going until well after the worker has moved to a surviving node.
      await until(() => failures.length > 0 || (nats!.nodeOf(worker!.nc.getServer()) !== workerNode && answered >= killedAt + 40));
      stop = true;
      await Promise.all(loops);
      expect(failures).toEqual([]);

      const now = nats!.nodeOf(worker!.nc.getServer());
      console.log(`[nats cluster] killed :${workerNode!.port} (the worker's node) after ${beforeKill} reads; ` +
        `reads sent ${sent}, answered ${answered}; worker now on :${now?.port}`);
      expect(answered).toBe(sent);
      expect(now).toBeDefined();
      expect(now).not.toBe(workerNode);
      // Writes still work through the surviving nodes.
      expect(await writer.create('nats-app/AFTER', 'still here')).toMatchObject({ version: 1 });
      expect(await reader.read('nats-app/AFTER')).toMatchObject({ value: 'still here' });
    } finally {
      await writer.close();
      await reader.close();
    }
  }, 60_000);
});

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
