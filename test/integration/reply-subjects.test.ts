/**
 * Reply subjects (docs/protocol.md §15): a worker answers only replies to an allowed inbox
 * prefix. A request with any other reply subject (a JetStream API subject that would purge
 * the audit stream, the trail's own subjects, a system subject) or none is dropped before
 * anything in it is read: no reply, nothing stored, no nonce claimed, no event; it is
 * counted in the endpoint's stats and logged at most once a second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestStrategy, type JetStreamManager, type Msg, type NatsConnection } from 'nats';
import { eventually, sleep } from '../audit/support.js';
import type { TestCaller } from '../helpers/identities.js';
import { startStackWithLoggedWorker, type Stack } from '../helpers/stack.js';
import type { startLoggedWorker } from '../helpers/worker.js';
import { call, envelope, expectOk, request, send } from '../helpers/wire.js';

const STREAM = 'SECRET_SVC_AUDIT';
let stack: Stack;
let worker: Awaited<ReturnType<typeof startLoggedWorker>>;
let jsm: JetStreamManager;

beforeAll(async () => {
  ({ stack, worker } = await startStackWithLoggedWorker());
  jsm = await stack.nc.jetstreamManager();
});
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

async function streamState(): Promise<{ messages: number; first_seq: number; last_seq: number }> {
  const { state } = await jsm.streams.info(STREAM);
  return { messages: state.messages, first_seq: state.first_seq, last_seq: state.last_seq };
}

/** Everything published on `subjects` while `body` runs (a reply sent there would show). */
/** The stream's state once three events of `me` are stored and nothing else is on its way. */
async function settledStreamAfterEvents(me: TestCaller): Promise<Awaited<ReturnType<typeof streamState>>> {
  for (let i = 0; i < 3; i++) expectOk(await call(stack.nc, me, request('whoami'), 'json'), 'json');
  await eventually('3 events stored', async () => (await streamState()).messages >= 3);
  await sleep(200);
  return streamState();
}

async function sniffed(nc: NatsConnection, subjects: string[], body: () => Promise<void>): Promise<Msg[]> {
  const seen: Msg[] = [];
  const subs = subjects.map((s) => nc.subscribe(s, { callback: (err, m) => { if (!err) seen.push(m); } }));
  await nc.flush();
  try {
    await body();
  } finally {
    for (const sub of subs) sub.unsubscribe();
  }
  return seen;
}

async function endpointStats(op: string): Promise<{ num_requests: number; num_errors: number; data: { dropped_reply_subject: number } }> {
  // Both workers answer; the logged one serves secret.*.
  const replies = await stack.nc.requestMany('$SRV.STATS.secret-svc', new Uint8Array(0), { strategy: RequestStrategy.Count, maxMessages: 2, maxWait: 5000 });
  for await (const m of replies) {
    const { endpoints } = JSON.parse(Buffer.from(m.data).toString('utf8')) as { endpoints: { subject: string }[] };
    const e = endpoints.find((x) => x.subject === `secret.${op}`);
    if (e) return e as never;
  }
  throw new Error('no stats of the worker on secret.*');
}

const HOSTILE = [
  `$JS.API.STREAM.PURGE.${STREAM}`,
  `$JS.API.STREAM.MSG.DELETE.${STREAM}`,
  `$JS.API.STREAM.DELETE.${STREAM}`,
  '$SYS.REQ.SERVER.PING',
  '$KV.bucket.key',
  'secret.audit.create',
  'secret.internal.revocations',
  'app.replies.1',
  undefined,
];

describe('reply subjects outside SECRET_SVC_REPLY_PREFIXES', () => {
  it('are dropped unanswered before anything is processed: the trail untouched, nothing stored, no nonce claimed, counted', async () => {
    const me = stack.issuer.caller('rs-svc');
    const before = await settledStreamAfterEvents(me);
    const statsBefore = await endpointStats('create');

    // One signed create, valid in every way but its reply subject.
    const body = envelope(me, request('create', { key: 'rs-svc/A', value: 'planted' }), 'json');
    const seen = await sniffed(stack.nc, ['$JS.API.STREAM.PURGE.>', '$JS.API.STREAM.MSG.DELETE.>', '$JS.API.STREAM.DELETE.>', 'secret.audit.>', 'secret.internal.>', 'app.>', '$KV.>'], async () => {
      for (const reply of HOSTILE) stack.nc.publish('secret.create', body, reply ? { reply } : undefined);
      await stack.nc.flush();
      await sleep(1000);
    });

    expect(seen.map((m) => m.subject)).toEqual([]);
    expect(await streamState()).toEqual(before);
    // Not created and its nonce unclaimed: the very same bytes sent with an inbox are a first create.
    expect(expectOk(await send(stack.nc, 'secret.create', body), 'json')).toMatchObject({ key: 'rs-svc/A', version: 1 });

    const statsAfter = await endpointStats('create');
    expect(statsAfter.num_errors - statsBefore.num_errors).toBe(HOSTILE.length);
    expect(statsAfter.num_requests - statsBefore.num_requests).toBe(HOSTILE.length + 1);
    expect(statsAfter.data.dropped_reply_subject - statsBefore.data.dropped_reply_subject).toBe(HOSTILE.length);
    // Logged, but at most once a second however many arrive.
    const drops = worker.logged.filter((l) => String(l.msg).startsWith('request dropped unanswered'));
    expect(drops.length).toBeGreaterThanOrEqual(1);
    expect(drops.length).toBeLessThanOrEqual(2);
  });

  it('a per-user inbox prefix (_INBOX_deploy-svc) is an allowed one under the default', async () => {
    const me = stack.issuer.caller('rs-inbox');
    const got = await new Promise<Msg>((resolve) => {
      const sub = stack.nc.subscribe('_INBOX_deploy-svc.x1', { max: 1, callback: (_e, m) => resolve(m) });
      void stack.nc.flush().then(() => stack.nc.publish('secret.whoami', envelope(me, request('whoami'), 'json'), { reply: sub.getSubject() }));
    });
    expect(JSON.parse(Buffer.from(got.data).toString('utf8'))).toMatchObject({ slug: 'rs-inbox' });
  });
});

describe('discovery requests ($SRV.*), which the NATS library answers on any reply subject', () => {
  it('with a JetStream API reply subject leave the audit stream untouched (deny_purge, deny_delete)', async () => {
    const me = stack.issuer.caller('rs-srv');
    const before = await settledStreamAfterEvents(me);
    const { first_seq: first } = before;
    const replies = [`$JS.API.STREAM.PURGE.${STREAM}`, `$JS.API.STREAM.MSG.DELETE.${STREAM}`];
    // The library's reply really is published there (the worker's own user makes the API call).
    const seen = await sniffed(stack.nc, replies, async () => {
      for (const subject of ['$SRV.PING', '$SRV.INFO', '$SRV.PING.secret-svc', '$SRV.INFO.secret-svc', '$SRV.STATS.secret-svc']) {
        for (const reply of replies) stack.nc.publish(subject, new Uint8Array(0), { reply });
      }
      await stack.nc.flush();
      await sleep(1000);
    });
    expect(seen.length).toBeGreaterThan(0);
    const after = await streamState();
    expect(after.first_seq).toBe(first);
    expect(after.messages).toBe(before.messages);
    expect((await jsm.streams.info(STREAM)).config).toMatchObject({ deny_delete: true, deny_purge: true });
  });
});
