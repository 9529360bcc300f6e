/**
 * 100,000+ hostile requests through RequestPipeline.handle (assembled as src/worker.ts does,
 * with a real Redis): every one gets a 4xx error reply, none a 500, and heap use stays
 * bounded. The same generators go over real NATS in nats.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assemblePipeline, type Pipeline } from '../fault/assemble.js';
import { TestIssuer } from '../helpers/identities.js';
import { RedisServer } from '../helpers/servers.js';
import { testEnv } from '../helpers/worker.js';
import { MB } from '../fault/support.js';
import { judge, FuzzTally } from './check.js';
import { fuzzIdentities, hostileCaseArb, invalidUtf8ValueCase, type Case, type FuzzIdentities } from './hostile.js';

// vitest.config.ts starts test workers with --expose-gc (turning it on at run time with
// v8.setFlagsFromString is unsupported, and deadlocked a worker in gc()).
const gc = (): void => {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc (vitest.config.ts execArgv)');
  globalThis.gc();
};
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const BATCH = 50;
const RUNS = 2_020; // × 50 = 101,000 cases

describe('hostile input through RequestPipeline.handle', { timeout: 240_000 }, () => {
  let redisServer: RedisServer;
  let pipeline: Pipeline;
  let ids: FuzzIdentities;

  beforeAll(async () => {
    redisServer = await RedisServer.start();
    const issuer = new TestIssuer();
    pipeline = await assemblePipeline(testEnv({ natsUrl: 'nats://127.0.0.1:1', redisUrl: redisServer.url, issuers: [issuer.publicKey] }));
    ids = fuzzIdentities(issuer, new TestIssuer(), { maxEnvelopeBytes: pipeline.config.maxEnvelopeBytes });
  });

  afterAll(async () => {
    pipeline?.close();
    await redisServer?.cleanup();
  });

  const run = async (c: Case) => {
    const reply = await pipeline.handler.handle(c.op, c.body);
    return judge(c, reply.error ? reply.error.status : 200, reply.body);
  };

  it('answers every generated envelope with a 4xx error and keeps heap use bounded', async () => {
    const tally = new FuzzTally();
    const property = fc.asyncProperty(fc.array(hostileCaseArb(ids), { minLength: BATCH, maxLength: BATCH }), async (cases) => {
      const verdicts = await Promise.all(cases.map(run));
      cases.forEach((c, i) => tally.record(c, verdicts[i]!));
      return verdicts.every((v) => v.problem === undefined);
    });
    // Warm-up fills the credential caches and the JIT; the heap is measured from there.
    // fc.check, not fc.assert: a failure is reported below from the tally, not as a dump of 50 bodies.
    const warm = await fc.check(property, { numRuns: 100, endOnFailure: true });
    const heapBefore = heapAfterGc();
    const main = warm.failed ? warm : await fc.check(property, { numRuns: RUNS - 100, endOnFailure: true });
    const heapAfter = heapAfterGc();

    console.log(`envelopes sent ${tally.sent} / answered 4xx ${tally.answered4xx}`);
    console.log(`by kind (status × count):\n${tally.kinds()}`);
    console.log(`heap used after GC: ${(heapBefore / MB).toFixed(1)} MB after warm-up, ${(heapAfter / MB).toFixed(1)} MB at the end`);
    if (main.failed) console.log(`fast-check seed ${main.seed}, failing batch at run ${main.numRuns}`);
    expect(tally.problems).toEqual([]);
    expect(main.failed).toBe(false);
    expect(tally.sent).toBeGreaterThanOrEqual(100_000);
    expect(tally.answered4xx).toBe(tally.sent);
    expect(heapAfter - heapBefore).toBeLessThan(32 * MB);
  });

  it('refuses a MessagePack value that is not valid UTF-8 (400), as the JSON encoding does', async () => {
    const c = invalidUtf8ValueCase(ids);
    const reply = await pipeline.handler.handle(c.op, c.body);
    console.log(`invalid UTF-8 value in MessagePack: status ${reply.error?.status ?? 200}`);
    expect(reply.error?.status).toBe(400);
  });
});
