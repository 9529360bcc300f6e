/**
 * Micro-benchmark of the audit trail (docs/protocol.md §11) on a nats-server with JetStream (file
 * storage, a temporary store): what one event costs a request.
 *
 *   node --import tsx bench/audit.ts [--events N] [--concurrency C]
 *
 * - recordAndWait, one at a time: the latency a value-carrying reply waits for its ack;
 * - recordAndWait, C at a time: acks in flight together, as under load;
 * - record: queued events stored per second (the queue publishes many at once);
 * - a plain NATS request to an echo responder, the baseline of one round trip.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { createAuditTrail, type AuditFacts } from '../src/audit/index.js';
import { createLogger } from '../src/log.js';
import { NatsServer } from '../test/helpers/servers.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '64' } } });
const N = Number(values.events);
const C = Number(values.concurrency);

const facts = (i: number): AuditFacts => ({
  op: 'read', status: 200, slug: 'deploy-svc', admin: false, keyId: 'x'.repeat(43), key: `deploy-svc/KEY_${i}`, version: 1,
});

const nats = await NatsServer.start();
const nc = await connect({ servers: nats.url, noAsyncTraces: true });
const trail = createAuditTrail(nc, { mode: 'jetstream', stream: 'BENCH_AUDIT', maxAgeSeconds: 3600, maxBytes: 1 << 30 }, { subjectPrefix: 'bench', log: createLogger('warn') });
await trail.start();
const echo = nc.subscribe('bench.echo', { callback: (_e, m) => m.respond(m.data) });

async function timed(label: string, n: number, body: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  await body();
  const ms = performance.now() - t0;
  console.log(`${label.padEnd(40)} ${String(n).padStart(7)} in ${ms.toFixed(0).padStart(6)} ms  ${(n / (ms / 1000)).toFixed(0).padStart(8)} /s  ${((ms * 1000) / n).toFixed(1).padStart(8)} µs each`);
}

async function concurrently(n: number, c: number, one: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: c }, async () => {
    while (next < n) await one(next++);
  }));
}

const small = Math.min(N, 2000);
await timed('echo request, 1 at a time', small, async () => { for (let i = 0; i < small; i++) await nc.request('bench.echo', 'x'); });
await timed('recordAndWait, 1 at a time', small, async () => { for (let i = 0; i < small; i++) await trail.recordAndWait(facts(i)); });
await timed(`echo request, ${C} at a time`, N, () => concurrently(N, C, () => nc.request('bench.echo', 'x')));
await timed(`recordAndWait, ${C} at a time`, N, () => concurrently(N, C, (i) => trail.recordAndWait(facts(i))));
await timed('record (queued) until all stored', N, async () => {
  for (let i = 0; i < N; i++) trail.record(facts(i));
  while (trail.pending() > 0) await new Promise((r) => setTimeout(r, 1));
});

echo.unsubscribe();
await trail.stop();
await nc.close();
await nats.stop();
