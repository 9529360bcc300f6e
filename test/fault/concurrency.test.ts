/**
 * Concurrent writes under load, across two workers and both encodings: creates of one key
 * give one success, same-ifVersion updates one success, and updates without ifVersion are
 * never lost (final version = 1 + successes, each success holding its own version).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { SecretClient } from '@secret-svc/client';
import { SecretSvcError } from '@secret-svc/protocol';
import { TestIssuer } from '../helpers/identities.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';

type TestWorker = Awaited<ReturnType<typeof startTestWorker>>;

/** Status of each settled call: 200 or the error's status (anything else fails the test). */
async function statuses<T>(calls: Promise<T>[]): Promise<{ counts: Record<number, number>; values: T[] }> {
  const counts: Record<number, number> = {};
  const values: T[] = [];
  for (const r of await Promise.allSettled(calls)) {
    if (r.status === 'fulfilled') {
      values.push(r.value);
      counts[200] = (counts[200] ?? 0) + 1;
    } else {
      if (!(r.reason instanceof SecretSvcError)) throw r.reason;
      counts[r.reason.status] = (counts[r.reason.status] ?? 0) + 1;
    }
  }
  return { counts, values };
}

describe('concurrent writes under load', { timeout: 60_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  const workers: TestWorker[] = [];
  const connections: NatsConnection[] = [];
  const clients: SecretClient[] = [];
  const issuer = new TestIssuer();

  beforeAll(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    const env = testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey] });
    workers.push(await startTestWorker(env), await startTestWorker(env));
    // Eight callers of one slug (each its own key, so its own nonces), half JSON, half MessagePack.
    for (let i = 0; i < 8; i++) {
      const nc = await connect({ servers: nats.url, noAsyncTraces: true });
      connections.push(nc);
      const c = issuer.caller('race-svc');
      clients.push(await SecretClient.connect({ nc, credential: c.credential, key: c.key, encoding: i % 2 ? 'json' : 'msgpack', timeoutMs: 10_000, retries: 0 }));
    }
  });

  afterAll(async () => {
    await Promise.allSettled(connections.map((nc) => nc.close()));
    await Promise.allSettled(workers.map((w) => w.stop()));
    await nats?.stop();
    await redis?.cleanup();
  });

  const by = (i: number) => clients[i % clients.length]!;

  it('200 concurrent updates without ifVersion: final version = 1 + successes', async () => {
    const key = 'race-svc/COUNTER';
    await by(0).create(key, 'start', { readers: ['race-svc'], writers: ['race-svc'], deleters: ['race-svc'] });
    // Every fourth update also changes the readers list, which sends concurrent updates
    // decided on the old lists back to decide again (the stale path).
    const { counts, values } = await statuses(Array.from({ length: 200 }, (_, i) =>
      by(i).update(key, i % 4 === 0 ? { value: `v${i}`, readers: i % 8 === 0 ? ['race-svc', 'audit'] : ['race-svc'] } : { value: `v${i}` })));
    const final = await by(1).read(key);
    const successes = counts[200] ?? 0;
    console.log(`200 updates without ifVersion: statuses ${JSON.stringify(counts)}; final version ${final.version} = 1 + ${successes} successes`);
    expect(Object.keys(counts).every((s) => s === '200' || s === '503')).toBe(true);
    expect(final.version).toBe(1 + successes);
    // Each success got a version of its own: 2 .. 1 + successes, none repeated.
    expect(values.map((m) => m.version).sort((a, b) => a - b)).toEqual(Array.from({ length: successes }, (_, i) => i + 2));
    // The last applied update is the stored one.
    const last = values.find((m) => m.version === final.version)!;
    expect(final.updatedAt).toBe(last.updatedAt);
    expect(successes).toBeGreaterThan(0);
  });

  it('10 rounds of 50 concurrent creates of one key: 1 success and 49 × 409 each', async () => {
    const rounds: Record<number, number>[] = [];
    for (let r = 0; r < 10; r++) {
      const key = `race-svc/CREATE-${r}`;
      const { counts } = await statuses(Array.from({ length: 50 }, (_, i) => by(i + r).create(key, `from ${i}`)));
      rounds.push(counts);
    }
    console.log(`creates per round: ${rounds.map((c) => `${c[200]}×200+${c[409]}×409`).join(', ')}`);
    for (const counts of rounds) expect(counts).toEqual({ 200: 1, 409: 49 });
  });

  it('10 rounds of 50 concurrent updates with the same ifVersion: 1 success and 49 × 409 each', async () => {
    const key = 'race-svc/GUARDED';
    await by(0).create(key, 'v1');
    const rounds: Record<number, number>[] = [];
    for (let r = 0; r < 10; r++) {
      const version = r + 1;
      const { counts, values } = await statuses(Array.from({ length: 50 }, (_, i) => by(i + r).update(key, { value: `r${r}-${i}`, ifVersion: version })));
      rounds.push(counts);
      expect(values.map((m) => m.version)).toEqual([version + 1]);
    }
    const final = await by(3).read(key);
    console.log(`guarded updates per round: ${rounds.map((c) => `${c[200]}×200+${c[409]}×409`).join(', ')}; final version ${final.version}`);
    for (const counts of rounds) expect(counts).toEqual({ 200: 1, 409: 49 });
    expect(final.version).toBe(11);
  });

  it('50 concurrent deletes with ifVersion: 1 success and 49 × 404', async () => {
    const key = 'race-svc/DOOMED';
    await by(0).create(key, 'v1');
    const { counts } = await statuses(Array.from({ length: 50 }, (_, i) => by(i).delete(key, { ifVersion: 1 })));
    console.log(`deletes: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ 200: 1, 404: 49 });
    await expect(by(1).read(key)).rejects.toMatchObject({ status: 404 });
  });
});
