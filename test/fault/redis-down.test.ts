/**
 * Redis killed under load: every request still gets a reply (503 while Redis is away), the
 * worker process keeps running, and it serves again once Redis is back, without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { TestIssuer } from '../helpers/identities.js';
import { spawnWorker, type WorkerProcess } from '../helpers/process.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { testEnv } from '../helpers/worker.js';
import { rawRequest, runLoad, signed, sleep, Tally, waitUntil } from './support.js';

describe('Redis killed under load', { timeout: 60_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  let worker: WorkerProcess;
  let nc: NatsConnection;
  const issuer = new TestIssuer();
  const caller = issuer.caller('load-svc');

  beforeAll(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    worker = await spawnWorker(testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey], extra: { LOG_LEVEL: 'info' } }));
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
  });

  afterAll(async () => {
    await nc?.close();
    await worker?.stop('SIGKILL');
    await nats?.stop();
    await redis?.cleanup();
  });

  it('answers every request (503 while down) and serves again without a restart', async () => {
    const pid = worker.proc.pid;
    // A request is tallied under its phase; one sent in one phase and answered in another
    // straddles a change and only has to get some reply (200 or 503).
    let phase: 'up' | 'down' | 'returning' | 'back' = 'up';
    const tallies = { up: new Tally(), down: new Tally(), returning: new Tally(), back: new Tally(), straddling: new Tally() };
    // whoami claims a nonce and creates write a record: both need Redis, neither depends on old data.
    const load = runLoad(12, async (loop, i) => {
      const sentIn = phase;
      const body = i % 2 === 0
        ? signed(caller, 'whoami', {}, loop % 2 ? 'json' : 'msgpack')
        : signed(caller, 'create', { key: `load-svc/k-${loop}-${i}-${Date.now()}`, value: 'v' }, loop % 2 ? 'json' : 'msgpack');
      let t = tallies[sentIn];
      try {
        const reply = await rawRequest(nc, i % 2 === 0 ? 'secret.whoami' : 'secret.create', body, 5000);
        if (phase !== sentIn) t = tallies.straddling;
        t.sent++;
        t.count(reply.status);
        if (reply.status === 503 && (reply.body as { error?: { code?: string } })?.error?.code !== 'unavailable') t.wrong.push('503 without code');
      } catch {
        t.sent++;
        t.unanswered++;
      }
    });

    await sleep(700);
    phase = 'down';
    await redis.stop('SIGKILL');
    await sleep(1500);
    phase = 'returning';
    await redis.start();
    await waitUntil(async () => (await rawRequest(nc, 'secret.whoami', signed(caller, 'whoami', {}, 'json'))).status === 200, 'worker to serve again');
    phase = 'back';
    await sleep(100); // let requests sent before Redis was back settle as straddling
    await sleep(700);
    await load.stop();

    for (const [name, t] of Object.entries(tallies)) console.log(`Redis ${name}: requests ${t.summary()}`);
    const all = Object.values(tallies);
    const sent = all.reduce((n, t) => n + t.sent, 0);
    const answered = all.reduce((n, t) => n + t.answered, 0);
    console.log(`requests sent ${sent} / answered ${answered}`);

    expect(answered).toBe(sent);
    for (const t of all) {
      expect(t.unanswered).toBe(0);
      expect(t.wrong).toEqual([]);
    }
    // Before the kill everything succeeds; while Redis is down every answer is 503; once it
    // is back everything succeeds again.
    expect(Object.keys(tallies.up.byStatus)).toEqual(['200']);
    expect(Object.keys(tallies.down.byStatus)).toEqual(['503']);
    expect(tallies.down.answered).toBeGreaterThan(0);
    for (const t of [tallies.straddling, tallies.returning]) {
      expect(Object.keys(t.byStatus).every((s) => s === '200' || s === '503')).toBe(true);
    }
    expect(Object.keys(tallies.back.byStatus)).toEqual(['200']);
    expect(tallies.back.answered).toBeGreaterThan(0);
    // The same process served throughout: it neither crashed nor was restarted.
    expect(worker.proc.exitCode).toBeNull();
    expect(worker.proc.signalCode).toBeNull();
    expect(worker.proc.pid).toBe(pid);
    expect(worker.output()).toMatch(/Redis connection lost/);
    expect(worker.output()).toMatch(/Redis connection restored/);
  });
});
