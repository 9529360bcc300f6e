/**
 * The audit trail (docs/protocol.md §11) against a real nats-server with JetStream: the stream it
 * creates, the events it stores (and what it never stores), folding, flushing at stop, and
 * the faults: a deleted stream, JetStream gone and back, NATS gone and back.
 */
import { pino } from 'pino';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '@secret-svc/protocol';
import { AuditStartError, type AuditFacts, type AuditTrail } from '../../src/audit/index.js';
import { NatsServer } from '../helpers/servers.js';
import { eventually, natsConnection, settings, sleep, storedEvents, trailOn } from './support.js';

const MARKER = 'MARKER-8d1f0c2b-value-never-stored';

describe('audit trail on a healthy JetStream', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const trails: AuditTrail[] = [];
  const start = async (...args: Parameters<typeof trailOn> extends [unknown, ...infer R] ? R : never) => {
    const t = trailOn(nc, ...args);
    trails.push(t);
    await t.start();
    return t;
  };

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await natsConnection(nats.url);
    jsm = await nc.jetstreamManager();
  });
  afterEach(async () => {
    await Promise.all(trails.splice(0).map((t) => t.stop()));
    for (const s of await jsm.streams.names().next()) await jsm.streams.delete(s);
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('creates the stream of §11 at start', async () => {
    await start(settings({ stream: 'AUDIT_T1', maxAgeSeconds: 3600, maxBytes: 8_388_608 }));
    const { config } = await jsm.streams.info('AUDIT_T1');
    expect(config).toMatchObject({
      subjects: ['secret.audit.>'],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: 3600 * 1e9,
      max_bytes: 8_388_608,
    });
  });

  it('creates it with deny_delete and deny_purge (§15)', async () => {
    await start();
    expect((await jsm.streams.info('SECRET_SVC_AUDIT')).config).toMatchObject({ deny_delete: true, deny_purge: true });
  });

  it('brings an existing stream with looser limits to the configured ones at start', async () => {
    await jsm.streams.add({ name: 'SECRET_SVC_AUDIT', subjects: ['secret.audit.>'], max_age: 0, max_bytes: 4_000_000_000, deny_delete: true, deny_purge: true });
    await start();
    const { config } = await jsm.streams.info('SECRET_SVC_AUDIT');
    expect(config.max_age).toBe(7_776_000 * 1e9);
    expect(config.max_bytes).toBe(1_073_741_824);
  });

  it('leaves a weakened existing stream as it is and fails closed on it (§15)', async () => {
    await jsm.streams.add({ name: 'SECRET_SVC_AUDIT', subjects: ['secret.audit.>'], max_age: 60 * 1e9, max_bytes: 2_000_000 });
    const trail = await start(settings(), { stopWaitMs: 100 });
    const { config } = await jsm.streams.info('SECRET_SVC_AUDIT');
    expect([config.max_age, config.max_bytes, config.deny_delete, config.deny_purge]).toEqual([60 * 1e9, 2_000_000, false, false]);
    const err = await trail.recordAndWait({ op: 'read', status: 200, slug: 'ci' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503 });
    trail.record({ op: 'whoami', status: 200, slug: 'ci' });
    await sleep(300);
    expect((await jsm.streams.info('SECRET_SVC_AUDIT')).state.messages).toBe(0);
  });

  it('stores an event with the §11 fields and nothing else, after its acknowledgement', async () => {
    const trail = await start();
    trail.setWorker('worker-1');
    // What a careless caller might hand over: none of these extra fields may reach the trail.
    const facts = {
      op: 'read', status: 200, slug: 'deploy-svc', admin: false, keyId: 'k'.repeat(43), jti: 'j-1',
      key: 'deploy-svc/DB_PASSWORD', version: 3, time: new Date('2026-01-02T03:04:05.000Z'),
      value: MARKER, sig: MARKER, credential: MARKER, mac: MARKER, ticket: MARKER, session: undefined,
    } as AuditFacts;
    await trail.recordAndWait(facts);
    const stored = await storedEvents(jsm);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.subject).toBe('secret.audit.read');
    expect(stored[0]!.event).toEqual({
      v: 1, time: '2026-01-02T03:04:05.000Z', worker: 'worker-1', op: 'read', status: 200,
      slug: 'deploy-svc', admin: false, keyId: 'k'.repeat(43), jti: 'j-1', key: 'deploy-svc/DB_PASSWORD', version: 3,
    });
    expect(stored[0]!.raw).not.toContain(MARKER);
    expect(stored[0]!.raw).not.toContain('null');
  });

  it('adds the code of an error status, and keeps the selector of revoke without extras', async () => {
    const trail = await start();
    await trail.recordAndWait({ op: 'read', status: 403, slug: 'ci', admin: false, keyId: 'x', key: 'prod/X' });
    await trail.recordAndWait({ op: 'read', status: 404, code: 'not_found', slug: 'ci', admin: false, keyId: 'x', keys: ['a/b', 'a/c'] });
    await trail.recordAndWait({
      op: 'read', status: 200, slug: 'ops', admin: true, keyId: 'y', session: true,
      selector: { slug: 'ci', issuedBefore: 1_700_000_000, value: MARKER } as never,
    });
    const events = (await storedEvents(jsm)).map((s) => s.event);
    expect(events[0]).toMatchObject({ status: 403, code: 'forbidden', key: 'prod/X' });
    expect(events[1]).toMatchObject({ status: 404, code: 'not_found', keys: ['a/b', 'a/c'] });
    expect(events[2]).toMatchObject({ session: true, admin: true, selector: { slug: 'ci', issuedBefore: 1_700_000_000 } });
    expect(events[2]!.selector).toEqual({ slug: 'ci', issuedBefore: 1_700_000_000 });
    expect(events[0]).not.toHaveProperty('version');
  });

  it('stores every event recorded without waiting, each once', async () => {
    const trail = await start();
    const n = 3000;
    for (let i = 0; i < n; i++) trail.record({ op: 'list', status: 200, slug: 'ci', admin: false, keyId: 'x', prefix: `p${i}/`, count: i });
    await eventually('every event stored', async () => (await jsm.streams.info('SECRET_SVC_AUDIT')).state.messages >= n);
    await eventually('nothing pending', () => trail.pending() === 0);
    const prefixes = (await storedEvents(jsm)).map((s) => s.event.prefix);
    expect(new Set(prefixes).size).toBe(n);
    expect(prefixes).toHaveLength(n);
  });

  it('folds requests refused before the credential verified into counted events', async () => {
    const trail = await start(settings(), { foldMs: 200 });
    for (let i = 0; i < 500; i++) trail.record({ op: 'read', status: 401, time: new Date() });
    for (let i = 0; i < 7; i++) trail.record({ op: 'whoami', status: 400, code: 'bad_request', key: 'ignored/when-folded' });
    await eventually('folded events stored', async () => {
      const events = (await storedEvents(jsm)).map((s) => s.event);
      return events.filter((e) => e.op === 'read').reduce((n, e) => n + (e.count ?? 0), 0) === 500
        && events.filter((e) => e.op === 'whoami').reduce((n, e) => n + (e.count ?? 0), 0) === 7;
    });
    const events = (await storedEvents(jsm)).map((s) => s.event);
    expect(events.length).toBeLessThan(20);
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(['code', 'count', 'op', 'status', 'time', 'v', 'worker']);
    }
    expect(events.find((e) => e.op === 'read')).toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('stores what is queued (and folded) when it stops', async () => {
    const trail = await start(settings(), { foldMs: 60_000 });
    for (let i = 0; i < 500; i++) trail.record({ op: 'read', status: 200, slug: 'ci', admin: false, keyId: 'x', key: `k/${i}`, version: 1 });
    trail.record({ op: 'read', status: 401 });
    await trail.stop();
    const events = (await storedEvents(jsm)).map((s) => s.event);
    expect(events.filter((e) => e.status === 200)).toHaveLength(500);
    expect(events.filter((e) => e.status === 401)).toEqual([expect.objectContaining({ count: 1 })]);
  });

  it('with SECRET_SVC_AUDIT=off creates no stream and records nothing', async () => {
    const trail = await start(settings({ mode: 'off' }));
    expect(trail.mode).toBe('off');
    await trail.recordAndWait({ op: 'read', status: 200, slug: 'ci' });
    trail.record({ op: 'read', status: 200, slug: 'ci' });
    expect(trail.isFull()).toBe(false);
    await expect(jsm.streams.info('SECRET_SVC_AUDIT')).rejects.toThrow(/not found/);
  });

  it('refuses a stream whose subjects another stream already holds', async () => {
    await jsm.streams.add({ name: 'OTHER', subjects: ['secret.audit.>'] });
    const err = await trailOn(nc).start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditStartError);
    expect((err as Error).message).toMatch(/SECRET_SVC_AUDIT_STREAM/);
  });
});

describe('audit trail without JetStream', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = new NatsServer(await (await import('../helpers/servers.js')).freePort());
    nats.jetstream = false;
    await nats.start();
    nc = await natsConnection(nats.url);
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('refuses to start, naming the setting and how to enable JetStream', async () => {
    const err = await trailOn(nc).start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditStartError);
    const { message } = err as Error;
    expect(message).toContain('SECRET_SVC_AUDIT');
    expect(message).toContain('-js');
    expect(message).toContain('jetstream {');
  });

  it('starts with SECRET_SVC_AUDIT=off', async () => {
    await expect(trailOn(nc, settings({ mode: 'off' })).start()).resolves.toBeUndefined();
  });
});

describe('audit trail faults', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let trail: AuditTrail;
  /** The trail's log lines (warn and above). */
  const logged: string[] = [];

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await natsConnection(nats.url);
    jsm = await nc.jetstreamManager();
    trail = trailOn(nc, settings(), { capacity: 50, log: pino({ level: 'warn' }, { write: (line: string) => { logged.push(line); } }) });
    await trail.start();
  });
  afterAll(async () => {
    await trail?.stop();
    await nc?.close();
    await nats?.stop();
  });

  const ev = (key: string): AuditFacts => ({ op: 'update', status: 200, slug: 'ci', admin: false, keyId: 'x', key, version: 2 });
  const keysStored = async () => (await storedEvents(jsm)).map((s) => s.event.key);

  it('creates the stream again when it was deleted, and stores the event', async () => {
    await trail.recordAndWait(ev('before/delete'));
    await jsm.streams.delete('SECRET_SVC_AUDIT');
    await trail.recordAndWait(ev('after/delete'));
    expect(await keysStored()).toEqual(['after/delete']);
    expect((await jsm.streams.info('SECRET_SVC_AUDIT')).config.subjects).toEqual(['secret.audit.>']);
    expect(logged.some((l) => l.includes('the stream was missing; created it again'))).toBe(true);
    trail.record(ev('queued/after-delete'));
    await eventually('the queued event stored', async () => (await keysStored()).includes('queued/after-delete'));
  });

  it('answers 503 while JetStream is gone, keeps queued events, and works again once it is back', async () => {
    nats.jetstream = false;
    await nats.restart();
    await eventually('reconnected', async () => { await nc.flush(); return true; });
    // From here on the server must get JetStream back, also when an assertion fails.
    nats.jetstream = true;
    const err = await trail.recordAndWait(ev('while/down')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).status).toBe(503);
    for (let i = 0; i < 50; i++) trail.record(ev(`queued/${i}`));
    expect(trail.isFull()).toBe(true);
    expect(trail.pending()).toBeGreaterThanOrEqual(50);

    await nats.restart();
    await eventually('the event stored once JetStream is back', () => trail.recordAndWait(ev('after/back')).then(() => true, () => false));
    await eventually('the queue stored', () => trail.pending() === 0);
    expect(trail.isFull()).toBe(false);
    const keys = await keysStored();
    for (let i = 0; i < 50; i++) expect(keys.filter((k) => k === `queued/${i}`)).toHaveLength(1);
    expect(keys).toContain('after/back');
  });

  it('answers 503 while NATS is down and recovers when it is back', async () => {
    await nats.stop('SIGTERM', true);
    const err = await trail.recordAndWait(ev('nats/down')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    trail.record(ev('queued/nats-down'));
    await nats.start();
    await eventually('the event stored once NATS is back', () => trail.recordAndWait(ev('nats/back')).then(() => true, () => false));
    await eventually('the queued event stored', async () => (await keysStored()).includes('queued/nats-down'));
  });
});
