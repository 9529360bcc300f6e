/**
 * A worker as a real process (`npm start`'s entry point): it refuses to start without an
 * issuer or an encryption key, or with a key that cannot open the data in Redis, and says
 * why; on SIGTERM it answers every request in flight and exits 0 (docs/protocol.md §6, §7).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretClient } from '@secret-svc/client';
import { TestIssuer } from '../helpers/identities.js';
import { spawnWorker, type WorkerProcess } from '../helpers/process.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { envelope, expectOk, request, send, statusOf, waitFor } from '../helpers/wire.js';

const KEY = randomBytes(32).toString('base64');
const issuer = new TestIssuer();
let nats: NatsServer; let redisServer: RedisServer; let redis: Redis; let nc: NatsConnection;
const spawned: WorkerProcess[] = [];

const env = (extra: Record<string, string> = {}, key = KEY) =>
  testEnv({ natsUrl: nats.url, redisUrl: redisServer.url, issuers: [issuer.publicKey], key, extra: { LOG_LEVEL: 'info', ...extra } });

async function spawn(e: Record<string, string>): Promise<WorkerProcess> {
  const w = await spawnWorker(e, { timeoutMs: 30_000 });
  spawned.push(w);
  return w;
}

beforeAll(async () => {
  [nats, redisServer] = await Promise.all([NatsServer.start(), RedisServer.start()]);
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
});
afterAll(async () => {
  await Promise.allSettled(spawned.map((w) => w.stop('SIGKILL')));
  await nc?.close();
  redis?.disconnect();
  await nats?.stop();
  await redisServer?.cleanup();
});

describe('startup refusals', () => {
  // Configuration refusals need no Redis or NATS work: start them side by side.
  const refused: Record<string, WorkerProcess> = {};
  beforeAll(async () => {
    const noIssuers = env();
    delete noIssuers.SECRET_SVC_ISSUERS;
    const noKey = env();
    delete noKey.SECRET_SVC_ENCRYPTION_KEY;
    const cases: Record<string, Record<string, string>> = {
      noIssuers, noKey,
      blankIssuers: env({ SECRET_SVC_ISSUERS: ' , ' }),
      shortKey: env({}, randomBytes(16).toString('base64')),
    };
    const started = await Promise.all(Object.values(cases).map((e) => spawn(e)));
    Object.keys(cases).forEach((name, i) => { refused[name] = started[i]!; });
  });

  const expectRefusal = async (w: WorkerProcess, variable: string) => {
    const code = await w.exited;
    expect(code === null || code === 0, `exit code ${code}`).toBe(false);
    expect(w.output()).toContain(variable);
    expect(w.output()).not.toMatch(/worker serving/);
  };

  it('without SECRET_SVC_ISSUERS: exits non-zero and names the variable', async () => {
    await expectRefusal(refused.noIssuers!, 'SECRET_SVC_ISSUERS');
  });

  it('with a blank SECRET_SVC_ISSUERS: the same', async () => {
    await expectRefusal(refused.blankIssuers!, 'SECRET_SVC_ISSUERS');
  });

  it('without an encryption key: exits non-zero and names the variable', async () => {
    await expectRefusal(refused.noKey!, 'SECRET_SVC_ENCRYPTION_KEY');
  });

  it('with an encryption key that is not 32 bytes: exits non-zero and names the variable', async () => {
    await expectRefusal(refused.shortKey!, 'SECRET_SVC_ENCRYPTION_KEY');
  });

  describe('with data already in Redis', () => {
    beforeAll(async () => {
      // Data sealed under KEY, written by a worker that then stops.
      const worker = await startTestWorker(testEnv({ natsUrl: nats.url, redisUrl: redisServer.url, issuers: [issuer.publicKey], key: KEY }));
      const me = issuer.caller('life');
      const c = await SecretClient.connect({ nc, credential: me.credential, key: me.key, retries: 0 });
      await c.create('life/existing', 'sealed under the first key');
      await worker.stop();
    });

    it('a different encryption key: refuses to start, saying the key cannot open the data', async () => {
      const w = await spawn(env({}, randomBytes(32).toString('base64')));
      expect(await w.exited).not.toBe(0);
      expect(w.output()).toMatch(/cannot open/i);
      expect(w.output()).not.toMatch(/worker serving/);
      expect(w.output()).not.toContain('sealed under the first key');
    });

    it('a different key still refuses when the canary is gone (checked on a record)', async () => {
      const canaries = (await redis.keys('*canary*'));
      expect(canaries.length).toBe(1);
      const saved = await redis.dumpBuffer(canaries[0]!);
      await redis.del(canaries[0]!);
      try {
        const w = await spawn(env({}, randomBytes(32).toString('base64')));
        expect(await w.exited).not.toBe(0);
        expect(w.output()).toMatch(/cannot open/i);
      } finally {
        await redis.del(canaries[0]!);
        await redis.restore(canaries[0]!, 0, saved!);
      }
    });

    it('the right key starts, answers $SRV.PING, serves the existing data, and SIGINT exits 0', async () => {
      const w = await spawn(env());
      expect(w.output()).toMatch(/worker serving/);
      const ping = await nc.request('$SRV.PING.secret-svc', undefined, { timeout: 5000 });
      expect(JSON.parse(Buffer.from(ping.data).toString())).toMatchObject({ name: 'secret-svc' });
      const me = issuer.caller('life');
      const reply = await send(nc, 'secret.read', envelope(me, request('read', { key: 'life/existing' }), 'json'));
      expect(expectOk(reply, 'json')).toMatchObject({ value: 'sealed under the first key' });
      expect(await w.stop('SIGINT')).toBe(0);
      expect(w.output()).not.toContain('sealed under the first key');
    });
  });
});

describe('SIGTERM with requests in flight', () => {
  it('answers every accepted request, then exits 0', async () => {
    // Debug logging logs every request: none of it may carry a value.
    const w = await spawn(env({ LOG_LEVEL: 'debug' }));
    expect(w.output()).toMatch(/worker serving/);
    const me = issuer.caller('drain');
    const marker = `DRAIN-VALUE-${randomBytes(8).toString('hex')}`;
    expectOk(await send(nc, 'secret.create', envelope(me, request('create', { key: 'drain/base', value: `${marker}-base` }), 'msgpack')), 'msgpack');

    // Hold Redis so the requests below stay in flight inside the worker.
    const N = 30;
    await redis.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const pending = Array.from({ length: N }, (_, i) => {
      const req = i % 3 === 0 ? request('create', { key: `drain/k${i}`, value: `${marker}-${i}` }) : request('read', { key: 'drain/base' });
      return send(nc, `secret.${String(req.op)}`, envelope(me, req, i % 2 ? 'json' : 'msgpack'), 15_000);
    });
    // Wait until the worker has taken all of them (its stats count them in flight).
    await waitFor(async () => {
      const stats = JSON.parse(Buffer.from((await nc.request('$SRV.STATS.secret-svc', undefined, { timeout: 1000 })).data).toString());
      const inFlight = (stats.endpoints as { data?: { in_flight?: number } }[]).reduce((n, e) => n + (e.data?.in_flight ?? 0), 0);
      return inFlight === N;
    }, 5000, 20);

    const exited = w.stop('SIGTERM');
    const replies = await Promise.all(pending);
    expect(replies.map(statusOf)).toEqual(Array.from({ length: N }, () => 200));
    expect(await exited).toBe(0);
    expect(w.output()).toMatch(/draining/);
    expect(w.output()).toMatch(/"msg":"request"/);
    expect(w.output()).not.toContain(marker);
    // Gone now: nobody answers.
    await expect(send(nc, 'secret.whoami', envelope(me, request('whoami'), 'json'), 2000)).rejects.toMatchObject({ code: '503' });
    // The creates were applied.
    const records = (await redis.keys('*:r:drain/k*')).map((k) => k.slice(k.indexOf(':r:') + 3)).sort();
    expect(records).toEqual(Array.from({ length: N / 3 }, (_, j) => `drain/k${j * 3}`).sort());
  });
});
