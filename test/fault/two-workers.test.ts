/**
 * Two worker processes in one queue group. SIGTERM on one under load: it drains (every
 * request it accepted is answered) and exits 0 while the other keeps serving. SIGKILL on one:
 * the requests it held get no reply, and clients' retried reads succeed on the survivor.
 *
 * Redis is paused (CLIENT PAUSE) around each signal so that the signalled worker surely
 * holds requests in flight at that moment; no assertion depends on timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import type { Redis } from 'ioredis';
import { SecretClient } from '@secret-svc/client';
import { TestIssuer } from '../helpers/identities.js';
import { spawnWorker, type WorkerProcess } from '../helpers/process.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { testEnv } from '../helpers/worker.js';
import { adminRedis, runLoad, sleep, Tally, waitUntil } from './support.js';

describe('two workers: one drains on SIGTERM, one dies on SIGKILL', { timeout: 90_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  let admin: Redis;
  let nc: NatsConnection;
  let env: Record<string, string>;
  const procs: WorkerProcess[] = [];
  const issuer = new TestIssuer();
  const caller = issuer.caller('pair-svc');
  const keys = Array.from({ length: 8 }, (_, i) => `pair-svc/K${i}`);

  const spawn = async (logLevel = 'info') => {
    const p = await spawnWorker({ ...env, LOG_LEVEL: logLevel });
    procs.push(p);
    expect(p.proc.exitCode).toBeNull();
    return p;
  };
  const client = (o: { timeoutMs: number; attemptTimeoutMs?: number; retries: number }) =>
    SecretClient.connect({ nc, credential: caller.credential, key: caller.key, encoding: 'msgpack', retryDelayMs: 50, ...o });

  beforeAll(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    env = testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey] });
    admin = adminRedis(redis.url);
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
  });

  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
    await nc?.close();
    admin?.disconnect();
    await nats?.stop();
    await redis?.cleanup();
  });

  it('SIGTERM: the worker drains, answers every request in flight and exits 0; the other keeps serving', async () => {
    const [draining] = await Promise.all([spawn('debug'), spawn()]);
    const c = await client({ timeoutMs: 15_000, retries: 0 });
    for (const key of keys) await c.create(key, `value of ${key}`);

    const pending = new Set<number>();
    const outcome = new Map<number, 'ok' | string>();
    let next = 0;
    const tally = new Tally();
    const load = runLoad(16, async (loop, i) => {
      const id = next++;
      const key = keys[(loop + i) % keys.length]!;
      pending.add(id);
      tally.sent++;
      try {
        const secret = await c.read(key);
        tally.count(200);
        outcome.set(id, secret.value === `value of ${key}` ? 'ok' : 'wrong value');
      } catch (err) {
        tally.unanswered++;
        outcome.set(id, String(err));
      } finally {
        pending.delete(id);
      }
    });

    await sleep(500);
    await admin.call('CLIENT', 'PAUSE', '800', 'ALL');
    await sleep(200); // requests pile up in both workers, waiting on Redis
    const inFlight = [...pending];
    draining.proc.kill('SIGTERM');
    const code = await draining.exited;
    await sleep(600); // the survivor alone
    const afterExit = tally.answered;
    await sleep(400);
    await load.stop();

    const log = draining.output();
    const afterDrain = log.slice(log.indexOf('"draining"'));
    const answeredWhileDraining = afterDrain.split('\n').filter((l) => l.includes('"msg":"request"')).length;
    const inFlightAnswered = inFlight.filter((id) => outcome.get(id) === 'ok').length;
    console.log(`requests in flight at SIGTERM ${inFlight.length} / answered ${inFlightAnswered} (${answeredWhileDraining} by the draining worker after SIGTERM)`);
    console.log(`reads ${tally.summary()}; draining worker exit code ${code}`);

    expect(code).toBe(0);
    expect(log).toMatch(/"msg":"stopped"/);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlightAnswered).toBe(inFlight.length);
    expect(answeredWhileDraining).toBeGreaterThan(0);
    expect([...outcome.values()].filter((o) => o !== 'ok')).toEqual([]);
    expect(tally.answered).toBe(tally.sent);
    expect(tally.answered).toBeGreaterThan(afterExit); // the other worker went on serving
  });

  it('SIGKILL: reads held by the killed worker are retried and succeed on the survivor', async () => {
    const victim = await spawn();
    expect(procs.filter((p) => p.proc.exitCode === null && p.proc.signalCode === null)).toHaveLength(2);
    // Each attempt waits 500 ms; the call as a whole may take several attempts.
    const c = await client({ timeoutMs: 15_000, attemptTimeoutMs: 500, retries: 6 });

    // A plain subscriber (no queue group) sees every delivery: resends show as extra ones.
    let deliveries = 0;
    const spy = nc.subscribe('secret.read', { callback: () => { deliveries++; } });
    await nc.flush();

    const tally = new Tally();
    const load = runLoad(16, async (loop, i) => {
      const key = keys[(loop + i) % keys.length]!;
      tally.sent++;
      try {
        const secret = await c.read(key);
        tally.count(200);
        if (secret.value !== `value of ${key}`) tally.wrong.push(key);
      } catch (err) {
        tally.unanswered++;
        tally.wrong.push(String(err));
      }
    });
    await sleep(400);
    await admin.call('CLIENT', 'PAUSE', '400', 'ALL');
    await sleep(100); // the victim now holds requests it will never answer
    victim.proc.kill('SIGKILL');
    await victim.exited;
    await sleep(1500);
    await load.stop();
    await nc.flush();
    spy.unsubscribe();

    const resent = deliveries - tally.sent;
    console.log(`reads after SIGKILL ${tally.summary()}; resent after no reply ${resent}`);
    expect(victim.proc.signalCode).toBe('SIGKILL');
    expect(tally.wrong).toEqual([]);
    expect(tally.answered).toBe(tally.sent);
    expect(resent).toBeGreaterThan(0);
    // The survivor still serves.
    await waitUntil(async () => (await c.read(keys[0]!)).value === `value of ${keys[0]}`, 'survivor to answer');
  });
});
