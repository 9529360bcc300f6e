/**
 * Redis with AOF (appendfsync always) killed with SIGKILL under a write load, then
 * restarted: every write acknowledged to a client is there with its value and version.
 *
 * Each writer runs a chain on one key: create, then updates, one at a time, so the key's
 * version counts its applied writes. A write that fails has an unknown outcome (it may have
 * been applied before the connection dropped), so its chain ends there and the check allows
 * exactly that one extra write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretClient } from '@secret-svc/client';
import { SecretSvcError } from '@secret-svc/protocol';
import { TestIssuer } from '../helpers/identities.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { runLoad, sleep, waitUntil } from './support.js';

interface Chain {
  key: string;
  /** Acknowledged writes on this key (= the version they reached) and the last value acknowledged. */
  acked: number;
  ackedValue: string | undefined;
  /** The value of a write whose outcome is unknown (it failed); the chain stopped there. */
  pending: string | undefined;
}

describe('Redis AOF killed with SIGKILL under write load', { timeout: 60_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const clients: SecretClient[] = [];
  const issuer = new TestIssuer();
  const caller = issuer.caller('aof-svc');

  beforeAll(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start(['--appendonly', 'yes', '--appendfsync', 'always'])]);
    worker = await startTestWorker(testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey] }));
    for (const encoding of ['msgpack', 'json'] as const) {
      clients.push(await SecretClient.connect({ servers: nats.url, credential: caller.credential, key: caller.key, encoding, timeoutMs: 3000, retries: 0 }));
    }
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await worker?.stop();
    await nats?.stop();
    await redis?.cleanup();
  });

  it('keeps every acknowledged write', async () => {
    const chains: Chain[] = [];
    const current: (Chain | undefined)[] = [];
    let failures = 0;
    const load = runLoad(16, async (loop, i) => {
      const client = clients[loop % 2]!;
      let chain = current[loop];
      if (!chain) {
        chain = { key: `aof-svc/w${loop}-${i}`, acked: 0, ackedValue: undefined, pending: undefined };
        chains.push(chain);
        current[loop] = chain;
      }
      const value = `${chain.key}#${chain.acked + 1}`;
      try {
        const meta = chain.acked === 0 ? await client.create(chain.key, value) : await client.update(chain.key, { value });
        if (meta.version !== chain.acked + 1) throw new Error(`version ${meta.version} after ${chain.acked} writes`);
        chain.acked = meta.version;
        chain.ackedValue = value;
      } catch (err) {
        if (!(err instanceof SecretSvcError) || err.status !== 503) throw err;
        failures++;
        chain.pending = value;
        current[loop] = undefined; // outcome unknown: start a fresh key
        await sleep(20);
      }
    });

    await sleep(800);
    await redis.stop('SIGKILL');
    await sleep(500);
    await redis.start();
    const probe = clients[0]!;
    await waitUntil(async () => (await probe.whoami()).slug === 'aof-svc', 'worker to reach Redis again');
    await sleep(500); // more acknowledged writes after the restart
    await load.stop();

    let acked = 0;
    let found = 0;
    const lost: string[] = [];
    for (const chain of chains) {
      acked += chain.acked;
      let stored: { version: number; value: string } | undefined;
      try {
        stored = await probe.read(chain.key);
      } catch (err) {
        if (!(err instanceof SecretSvcError) || err.status !== 404) throw err;
      }
      const asAcked = chain.acked === 0 ? stored === undefined : stored?.version === chain.acked && stored.value === chain.ackedValue;
      const plusPending = chain.pending !== undefined && stored?.version === chain.acked + 1 && stored.value === chain.pending;
      if (asAcked || plusPending) found += chain.acked;
      else lost.push(`${chain.key}: acknowledged v${chain.acked}, stored v${stored?.version ?? 'none'}`);
    }
    console.log(`writes acknowledged ${acked} / found ${found} (keys ${chains.length}, writes failed while Redis was down ${failures})`);
    expect(lost).toEqual([]);
    expect(found).toBe(acked);
    expect(failures).toBeGreaterThan(0); // the kill really happened under load
    expect(acked).toBeGreaterThan(0);
  });
});
