/**
 * Hostile envelopes over real NATS to a worker process: every one gets a reply (4xx, with
 * the error headers), the worker stays up and serves good requests, and its resident
 * memory stays bounded. The bulk of the 100,000 cases runs in-process (handler.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { TestIssuer } from '../helpers/identities.js';
import { spawnWorker, type WorkerProcess } from '../helpers/process.js';
import { NatsServer, RedisServer } from '../helpers/servers.js';
import { testEnv } from '../helpers/worker.js';
import { MB, rawRequest, rssOf, signed } from '../fault/support.js';
import { FuzzTally, judge, type Verdict } from './check.js';
import { echoingCases, fuzzIdentities, hostileCaseArb, type Case, type FuzzIdentities } from './hostile.js';

const CASES = 4_000;
const CONCURRENCY = 32;

describe('hostile envelopes over NATS to a worker process', { timeout: 120_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  let worker: WorkerProcess;
  let nc: NatsConnection;
  let ids: FuzzIdentities;
  const issuer = new TestIssuer();

  beforeAll(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    worker = await spawnWorker(testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey], extra: { LOG_LEVEL: 'info' } }));
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
    ids = fuzzIdentities(issuer, new TestIssuer(), { maxEnvelopeBytes: 262_144 });
  });

  afterAll(async () => {
    await nc?.close();
    await worker?.stop('SIGKILL');
    await nats?.stop();
    await redis?.cleanup();
  });

  /** Sends one case; a missing reply (timeout) is a problem like a 500. */
  async function send(c: Case): Promise<Verdict> {
    try {
      const msg = await nc.request(`secret.${c.op}`, c.body, { timeout: 5000, headers: natsHeaders() });
      const code = msg.headers?.get('Nats-Service-Error-Code');
      const verdict = judge(c, code ? Number(code) : 200, msg.data, msg.headers?.get('Nats-Service-Error'));
      return verdict;
    } catch (err) {
      return { status: 0, problem: `no reply (${(err as Error).message})` };
    }
  }

  async function sendAll(cases: Case[], tally: FuzzTally): Promise<void> {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        tally.record(c, await send(c));
      }
    }));
  }

  it('answers every hostile envelope with a 4xx reply, stays up, and keeps its memory bounded', async () => {
    const arb = hostileCaseArb(ids);
    const tally = new FuzzTally();
    // Envelopes nested as deep as the size limit allows, in MessagePack (the costly decoder).
    const deepest = Buffer.concat([Buffer.alloc(ids.maxEnvelopeBytes - 1, 0x91), Buffer.from([0xc0])]);
    const deepCases = (n: number): Case[] => Array.from({ length: n }, (_, i) => ({ op: i % 2 ? 'read' : 'create', body: deepest, kind: 'deepest msgpack' }));
    // Warm-up: caches, JIT, buffers and decoder pools reach their working size first.
    await sendAll([...fc.sample(arb, 500), ...deepCases(5)], tally);
    const rssBefore = rssOf(worker.proc.pid!);
    for (let sent = 0; sent < CASES; sent += 1000) await sendAll([...fc.sample(arb, 1000), ...deepCases(2)], tally);
    const rssAfter = rssOf(worker.proc.pid!);
    const good = await rawRequest(nc, 'secret.whoami', signed(ids.trusted, 'whoami', {}, 'msgpack'));

    console.log(`envelopes sent ${tally.sent} / answered 4xx ${tally.answered4xx} (over NATS)`);
    console.log(`by kind (status × count):\n${tally.kinds()}`);
    console.log(`worker RSS ${(rssBefore / MB).toFixed(1)} MB after warm-up, ${(rssAfter / MB).toFixed(1)} MB at the end`);
    expect(tally.problems).toEqual([]);
    expect(tally.answered4xx).toBe(tally.sent);
    expect(good.status).toBe(200);
    expect(worker.proc.exitCode).toBeNull();
    // RSS is noisy (V8 grows its heap before collecting); a leak per request would exceed this many times over.
    expect(rssAfter - rssBefore).toBeLessThan(96 * MB);
  });

  it('answers requests whose error message would echo CR/LF from the input', async () => {
    const tally = new FuzzTally();
    const cases = echoingCases(ids);
    for (const c of cases) tally.record(c, await send(c));
    console.log(`echoing envelopes sent ${tally.sent} / answered 4xx ${tally.answered4xx}`);
    expect(tally.problems).toEqual([]);
    expect(tally.answered4xx).toBe(cases.length);
  });
});
