/**
 * The audit trail fails closed (docs/protocol.md §11): with the stream deleted or JetStream gone
 * while a worker serves, no reply that carries a value or confirms a change leaves without
 * its event stored; such replies are 503 meanwhile, a resend of a write that got 503 gets
 * the reply the operation decided once JetStream is back (applied once), and the worker
 * serves again without a restart. Plus: SECRET_SVC_AUDIT=off needs no JetStream, and audit
 * on without JetStream refuses to start, naming the setting.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JetStreamManager } from 'nats';
import { SecretClient, type SecretClient as Client } from '@secret-svc/client';
import type { AuditEvent } from '../../src/audit/index.js';
import { eventually, storedEvents } from '../audit/support.js';
import { TestIssuer } from '../helpers/identities.js';
import { freePort, NatsServer, RedisServer } from '../helpers/servers.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startTestWorker, testEnv } from '../helpers/worker.js';
import { call, envelope, expectError, expectOk, request, send, statusOf, waitFor } from '../helpers/wire.js';

const eventsWhere = async (jsm: JetStreamManager, match: (e: AuditEvent) => boolean) =>
  (await storedEvents(jsm)).map((s) => s.event).filter(match);

describe('fail closed while serving', { timeout: 120_000 }, () => {
  let stack: Stack;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    stack = await startStack();
    jsm = await stack.nc.jetstreamManager();
  });
  afterAll(async () => { await stack?.stop(); });

  it('a worker of another deployment (other subject prefix) refuses to take over the stream, naming SECRET_SVC_AUDIT_STREAM', async () => {
    const err = await startTestWorker({ ...stack.env, SECRET_SVC_SUBJECT_PREFIX: 'other' }).then(
      async (w) => { await w.stop(); return undefined; }, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/SECRET_SVC_AUDIT_STREAM/);
    expect((await jsm.streams.info('SECRET_SVC_AUDIT')).config.subjects).toEqual(['secret.audit.>']);
    // With its own stream it starts.
    const own = await startTestWorker({ ...stack.env, SECRET_SVC_SUBJECT_PREFIX: 'other', SECRET_SVC_AUDIT_STREAM: 'OTHER_AUDIT' });
    await own.stop();
  });

  it('the stream deleted: no value or change leaves unaudited, and the stream is back without a restart', async () => {
    const owner = stack.issuer.caller('gone-svc');
    const key = 'gone-svc/K';
    expectOk(await call(stack.nc, owner, request('create', { key, value: 'v1' }), 'json'), 'json');
    await jsm.streams.delete('SECRET_SVC_AUDIT');

    // The worker recreates the stream when a publish finds none; a reply that could not wait for
    // that is 503. Either way every 200 below has its event in the (new) stream.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(statusOf(await call(stack.nc, owner, request('read', { key }), 'msgpack')));
    statuses.push(statusOf(await call(stack.nc, owner, request('update', { key, value: 'v2' }), 'json')));
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.at(-1)).toBe(200);

    await jsm.streams.info('SECRET_SVC_AUDIT'); // exists again
    const reads = await eventsWhere(jsm, (e) => e.op === 'read' && e.key === key && e.status === 200);
    expect(reads).toHaveLength(statuses.slice(0, 5).filter((s) => s === 200).length);
    expect(await eventsWhere(jsm, (e) => e.op === 'update' && e.key === key && e.status === 200)).toEqual([
      expect.objectContaining({ slug: 'gone-svc', version: 2 }),
    ]);
    console.log(`stream deleted, then 5 reads and 1 update answered ${statuses.join(',')}; the stream was recreated and holds each 200's event`);
  });

  it('JetStream gone: values and writes get 503, a resend after it is back gets the decided reply, applied once', async () => {
    const owner = stack.issuer.caller('outage-svc');
    const watcher = stack.issuer.caller('outage-watch');
    const key = 'outage-svc/K';
    expectOk(await call(stack.nc, owner, request('create', { key, value: 'v1' }), 'json'), 'json');
    expectOk(await call(stack.nc, owner, request('create', { key: 'outage-svc/GONE', value: 'x' }), 'json'), 'json');

    stack.nats.jetstream = false;
    await stack.nats.restart();
    // The worker is back on the bus once a reply that needs no audit acknowledgement arrives.
    await waitFor(async () => statusOf(await call(stack.nc, watcher, request('whoami'), 'json')) === 200);

    const update = envelope(owner, request('update', { key, value: 'v2' }), 'msgpack');
    const refused = {
      read: await call(stack.nc, owner, request('read', { key }), 'json'),
      readMany: await call(stack.nc, owner, request('read', { keys: [key] }), 'msgpack'),
      update: await send(stack.nc, 'secret.update', update),
      create: await call(stack.nc, owner, request('create', { key: 'outage-svc/NEW', value: 'n' }), 'json'),
      delete: await call(stack.nc, owner, request('delete', { key: 'outage-svc/GONE' }), 'msgpack'),
    };
    expectError(refused.read, 503, 'json');
    expectError(refused.readMany, 503, 'msgpack');
    expectError(refused.update, 503, 'msgpack');
    expectError(refused.create, 503, 'json');
    expectError(refused.delete, 503, 'msgpack');
    expect(refused.read.body.error.code).toBe('unavailable');
    // Replies that carry no value and change nothing are not held back (their events wait in the queue).
    expect(expectOk(await call(stack.nc, watcher, request('whoami'), 'json'), 'json')).toMatchObject({ slug: 'outage-watch' });

    stack.nats.jetstream = true;
    await stack.nats.restart();
    await waitFor(async () => statusOf(await call(stack.nc, owner, request('whoami'), 'json')) === 200);
    // Serving again without a restart of the worker.
    await waitFor(async () => statusOf(await call(stack.nc, owner, request('read', { key: 'outage-svc/NEW' }), 'json')) !== 503);

    // The update that got 503 was decided (and stored with its nonce) before the audit step: its
    // resend gets that reply, not the 503, and changes nothing more.
    const again = await send(stack.nc, 'secret.update', update);
    expect(expectOk(again, 'msgpack')).toMatchObject({ key, version: 2 });
    expect(expectOk(await send(stack.nc, 'secret.update', update), 'msgpack')).toMatchObject({ key, version: 2 });
    expect(expectOk(await call(stack.nc, owner, request('read', { key }), 'json'), 'json')).toMatchObject({ value: 'v2', version: 2 });
    // So were the create and the delete.
    expect(expectOk(await call(stack.nc, owner, request('read', { key: 'outage-svc/NEW' }), 'json'), 'json')).toMatchObject({ version: 1 });
    expectError(await call(stack.nc, owner, request('read', { key: 'outage-svc/GONE' }), 'json'), 404, 'json');

    // Every reply has its event: the 503s and the whoami answered during the outage arrive once JetStream is back.
    await eventually('the outage events', async () => (await eventsWhere(jsm, (e) => e.slug === 'outage-svc' && e.status === 503)).length === 5);
    await eventually('the whoami answered during the outage', async () => (await eventsWhere(jsm, (e) => e.slug === 'outage-watch')).length >= 2);
    // The 503's event waited in the queue, so it may be stored after the resends' events. The
    // update was applied though its caller got 503: its own event (200) is stored too (§15).
    const summary = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort();
    const updateRows = async () => summary((await eventsWhere(jsm, (e) => e.op === 'update' && e.key === key)).map((e) => [e.status, e.version ?? null, e.code ?? null]));
    const expected = summary([[503, null, 'unavailable'], [200, 2, null], [200, 2, null], [200, 2, null]]);
    await eventually('the applied update, its 503 and the resends stored', async () => JSON.stringify(await updateRows()) === JSON.stringify(expected));
    // Likewise the create and the delete applied during the outage.
    for (const [op, k] of [['create', 'outage-svc/NEW'], ['delete', 'outage-svc/GONE']] as const) {
      expect((await eventsWhere(jsm, (e) => e.op === op && e.key === k)).map((e) => e.status).sort()).toEqual([200, 503]);
    }
    console.log(`JetStream off: read, read many, update, create, delete → 503; back: the update's resend → 200 version 2 (twice), value v2, applied once`);
  });
});

describe('JetStream missing at start', { timeout: 60_000 }, () => {
  let nats: NatsServer;
  let redis: RedisServer;
  let client: Client | undefined;
  const stopLater: { stop(): Promise<void> }[] = [];
  const issuer = new TestIssuer();
  const key = randomBytes(32).toString('base64');
  const env = (extra: Record<string, string> = {}) => testEnv({ natsUrl: nats.url, redisUrl: redis.url, issuers: [issuer.publicKey], key, extra });

  beforeAll(async () => {
    nats = new NatsServer(await freePort());
    nats.jetstream = false;
    [, redis] = await Promise.all([nats.start(), RedisServer.start()]);
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    for (const w of stopLater.splice(0)) await w.stop();
  });
  afterAll(async () => {
    await nats?.stop();
    await redis?.cleanup();
  });

  it('a worker with audit on (the default) refuses to start and names SECRET_SVC_AUDIT', async () => {
    const err = await startTestWorker(env()).then((w) => { stopLater.push(w); return undefined; }, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain('SECRET_SVC_AUDIT=jetstream');
    expect(err!.message).toContain('SECRET_SVC_AUDIT=off');
    expect(err!.message).toContain('-js');
  });

  it('SECRET_SVC_AUDIT=off serves without JetStream', async () => {
    const worker = await startTestWorker(env({ SECRET_SVC_AUDIT: 'off' }));
    stopLater.push(worker);
    const c = issuer.caller('noaudit-svc');
    client = await SecretClient.connect({ nc: worker.nc, credential: c.credential, key: c.key, retries: 0 });
    await client.create('noaudit-svc/K', 'v1');
    expect(await client.read('noaudit-svc/K')).toMatchObject({ value: 'v1', version: 1 });
  });
});
