/**
 * The audit trail of a serving worker (docs/protocol.md §11): every request answered on an op
 * subject becomes exactly one event in the JetStream stream, with the §11 fields made from
 * what was answered, in both encodings; no event holds a value, signature or credential.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JetStreamManager } from 'nats';
import {
  errorFromBody, errorFromStatus, generateJwk, issueCredential, privateKeyObject, type Encoding,
} from '@secret-svc/protocol';
import { RequestChannel } from '../helpers/session-manager.js';
import type { AuditEvent } from '../../src/audit/index.js';
import { eventually, storedEvents, type StoredEvent } from '../audit/support.js';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { call, ENCODINGS, envelope, expectError, expectOk, request, send, statusOf } from '../helpers/wire.js';

let stack: Stack;
let jsm: JetStreamManager;
/** Every value written in this file contains it; no event may. */
const MARKER = `MARKER-${randomBytes(12).toString('hex')}`;
/** Credentials used in this file; no event may hold any part of one. */
const credentials: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  jsm = await stack.nc.jetstreamManager();
});
afterAll(async () => { await stack?.stop(); });

/** A caller whose credential carries a `jti` (so events show it). */
function callerWithJti(slug: string, admin = false): TestCaller & { jti: string } {
  const key = generateJwk();
  const jti = randomBytes(8).toString('hex');
  const credential = issueCredential({
    issuerKey: privateKeyObject(stack.issuer.jwk), issuer: stack.issuer.publicKey, slug, subjectKey: key.x, admin, jti,
  });
  return { slug, credential, key, jti };
}

/** The events of `slug` once `count` of them are stored (the stream is read until then). */
async function eventsOf(slug: string, count: number): Promise<AuditEvent[]> {
  let found: StoredEvent[] = [];
  await eventually(`${count} events of ${slug}`, async () => {
    found = (await storedEvents(jsm)).filter((s) => s.event.slug === slug);
    return found.length >= count;
  });
  // Anything recorded without waiting has had time to arrive: more would be a duplicate.
  await new Promise((r) => setTimeout(r, 300));
  found = (await storedEvents(jsm)).filter((s) => s.event.slug === slug);
  for (const s of found) expect(s.subject).toBe(`secret.audit.${s.event.op}`);
  return found.map((s) => s.event);
}

const canonical = (o: object): string => JSON.stringify(Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y))));

/** Events without the fields that vary per run, in a stable order to compare as a multiset. */
function comparable(events: AuditEvent[]): object[] {
  return events
    .map(({ time, worker, ...rest }) => {
      expect(Number.isNaN(Date.parse(time))).toBe(false);
      expect(typeof worker).toBe('string');
      return rest;
    })
    // Compared as text with the fields in one order, whatever order each event lists them in.
    .sort((a, b) => canonical(a).localeCompare(canonical(b)));
}

describe.each(ENCODINGS)('one event per answered request (%s)', (encoding: Encoding) => {
  it('read, list, create, update, delete, whoami, versions and 400/401/403/404/409 each give exactly one event with the §11 fields', async () => {
    const c = callerWithJti(`aud-${encoding}`);
    credentials.push(c.credential);
    const key = `${c.slug}/DB_PASSWORD`;
    const who = { v: 1, slug: c.slug, admin: false, keyId: c.key.x, jti: c.jti };
    const run = async (op: string, fields: object, body?: Uint8Array) => {
      const bytes = body ?? envelope(c, request(op as never, fields), encoding);
      const reply = await send(stack.nc, `secret.${op}`, bytes);
      return reply;
    };

    expectOk(await run('create', { key, value: `${MARKER}-1` }), encoding);
    expect(expectOk(await run('read', { key }), encoding)).toMatchObject({ value: `${MARKER}-1`, version: 1 });
    expectOk(await run('update', { key, value: `${MARKER}-2` }), encoding);
    expect(expectOk(await run('read', { key, version: 1 }), encoding)).toMatchObject({ version: 1 });
    expectOk(await run('versions', { key }), encoding);
    expect(expectOk(await run('list', { prefix: `${c.slug}/` }), encoding).secrets).toHaveLength(1);
    expectOk(await run('read', { keys: [key, `${c.slug}/NONE`] }), encoding);
    expectOk(await run('whoami', {}), encoding);
    expectError(await run('read', { key: `${c.slug}/NONE` }), 404, encoding);
    expectError(await run('create', { key, value: `${MARKER}-3` }), 409, encoding);
    expectError(await run('create', { key: `someone-else/${c.slug}`, value: `${MARKER}-4` }), 403, encoding);
    // The credential verified, the request object did not: who, but no key.
    expectError(await run('read', { key: 'Not A Key!' }), 400, encoding);
    // A read sent twice: the resend is a replay (401), still with who asked.
    const once = envelope(c, request('read', { key }), encoding);
    expectOk(await run('read', {}, once), encoding);
    expectError(await run('read', {}, once), 401, encoding);
    expectOk(await run('delete', { key }), encoding);

    const events = await eventsOf(c.slug, 15);
    expect(comparable(events)).toEqual(comparable([
      { ...who, op: 'create', status: 200, key, version: 1 },
      { ...who, op: 'read', status: 200, key, version: 1 },
      { ...who, op: 'update', status: 200, key, version: 2 },
      { ...who, op: 'read', status: 200, key, version: 1 },
      { ...who, op: 'versions', status: 200, key },
      { ...who, op: 'list', status: 200, prefix: `${c.slug}/`, count: 1 },
      { ...who, op: 'read', status: 200, keys: [key, `${c.slug}/NONE`] },
      { ...who, op: 'whoami', status: 200 },
      { ...who, op: 'read', status: 404, code: 'not_found', key: `${c.slug}/NONE` },
      { ...who, op: 'create', status: 409, code: 'conflict', key },
      { ...who, op: 'create', status: 403, code: 'forbidden', key: `someone-else/${c.slug}` },
      { ...who, op: 'read', status: 400, code: 'bad_request' },
      { ...who, op: 'read', status: 200, key, version: 2 },
      // A 401 after the credential verified is folded (§15): who, without what, with a count.
      { v: 1, op: 'read', status: 401, code: 'unauthenticated', keyId: c.key.x, slug: c.slug, jti: c.jti, count: 1 },
      { ...who, op: 'delete', status: 200, key },
    ].map((e) => ({ ...e, time: new Date().toISOString(), worker: 'w' })) as AuditEvent[]));
    // One worker: every event names the micro service instance that answered.
    const [info] = await stack.worker.nc.services.client().info('secret-svc').then(async (it) => {
      const all = [];
      for await (const i of it) all.push(i);
      return all;
    });
    expect(new Set(events.map((e) => e.worker))).toEqual(new Set([info!.id]));
  });

  it('a request whose signature fails after the credential verified: 401 with who asked', async () => {
    const c = callerWithJti(`aud-sig-${encoding}`);
    credentials.push(c.credential);
    const impostor: TestCaller = { ...c, key: generateJwk() }; // the credential's holder key is not this one
    expectError(await call(stack.nc, impostor, request('whoami'), encoding), 401, encoding);
    const [event] = await eventsOf(c.slug, 1);
    expect(event).toMatchObject({ op: 'whoami', status: 401, code: 'unauthenticated', slug: c.slug, keyId: c.key.x, jti: c.jti });
  });
});

it('a flood of bad signatures with a valid credential text is folded per keyId (§15): few events, counts summing to the requests', async () => {
  const victim = callerWithJti('aud-flood');
  credentials.push(victim.credential);
  const copied: TestCaller = { ...victim, key: generateJwk() }; // the credential text without its holder's key
  const N = 300;
  const started = Date.now();
  for (let sent = 0; sent < N; sent += 30) {
    const batch = Array.from({ length: Math.min(30, N - sent) }, () => call(stack.nc, copied, request('read', { key: 'aud-flood/DB' }), 'json'));
    for (const reply of await Promise.all(batch)) expectError(reply, 401, 'json');
  }
  const seconds = (Date.now() - started) / 1000;
  const folded = async () => (await storedEvents(jsm)).map((s) => s.event).filter((e) => e.slug === victim.slug);
  await eventually(`events counting ${N} requests`, async () => (await folded()).reduce((n, e) => n + (e.count ?? 1), 0) >= N);
  await new Promise((r) => setTimeout(r, 1500)); // a later window would show here as a count beyond N
  const events = await folded();
  expect(events.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(N);
  // One window a second per worker: the flood's length in seconds, plus the windows it straddles.
  expect(events.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
  for (const e of events) {
    expect(Object.keys(e).sort()).toEqual(['code', 'count', 'jti', 'keyId', 'op', 'slug', 'status', 'time', 'v', 'worker']);
    expect(e).toMatchObject({ op: 'read', status: 401, code: 'unauthenticated', slug: victim.slug, keyId: victim.key.x, jti: victim.jti });
  }
  console.log(`${N} bad-signature requests with a copied credential in ${seconds.toFixed(1)} s → ${events.length} events, counts ${events.map((e) => e.count).join('+')}`);
});

describe.each(ENCODINGS)('revocation and sessions (%s)', (encoding: Encoding) => {
  it('revoke, unrevoke and revocations carry the selector; a revoked credential\'s 401 says who', async () => {
    const admin = callerWithJti(`aud-admin-${encoding}`, true);
    const victim = callerWithJti(`aud-victim-${encoding}`);
    credentials.push(admin.credential, victim.credential);
    const selector = { jti: victim.jti };
    expectOk(await call(stack.nc, admin, request('revoke', selector), encoding), encoding);
    expectError(await call(stack.nc, victim, request('whoami'), encoding), 401, encoding);
    expectOk(await call(stack.nc, admin, request('revocations'), encoding), encoding);
    expectOk(await call(stack.nc, admin, request('unrevoke', selector), encoding), encoding);
    expectError(await call(stack.nc, admin, request('unrevoke', selector), encoding), 404, encoding);

    const who = { v: 1, slug: admin.slug, admin: true, keyId: admin.key.x, jti: admin.jti };
    const stamp = { time: new Date().toISOString(), worker: 'w' };
    expect(comparable(await eventsOf(admin.slug, 4))).toEqual(comparable([
      { ...who, op: 'revoke', status: 200, selector },
      { ...who, op: 'revocations', status: 200 },
      { ...who, op: 'unrevoke', status: 200, selector },
      { ...who, op: 'unrevoke', status: 404, code: 'not_found', selector },
    ].map((e) => ({ ...e, ...stamp })) as AuditEvent[]));
    expect(comparable(await eventsOf(victim.slug, 1))).toEqual(comparable([
      { v: 1, slug: victim.slug, keyId: victim.key.x, jti: victim.jti, op: 'whoami', status: 401, code: 'unauthenticated', count: 1, ...stamp },
    ] as AuditEvent[]));
  });

  it('requests through a session are marked `session`; the handshake itself is a signed request', async () => {
    const c = callerWithJti(`aud-sess-${encoding}`);
    credentials.push(c.credential);
    const m = new RequestChannel({
      identity: { credential: c.credential, key: privateKeyObject(c.key) }, encoding, env: {},
      request: async (subject, body, timeoutMs) => {
        const r = await send(stack.nc, subject, body, timeoutMs);
        if (r.code !== undefined) throw errorFromBody(r.body) ?? errorFromStatus(Number(r.code), r.message ?? '');
        return r.body;
      },
    });
    const key = `${c.slug}/TOKEN`;
    expect(await m.call('create', { key, value: `${MARKER}-session` }, 5000)).toMatchObject({ version: 1 });
    expect(await m.call('read', { key }, 5000)).toMatchObject({ value: `${MARKER}-session` });
    const who = { v: 1, slug: c.slug, admin: false, keyId: c.key.x, jti: c.jti, time: new Date().toISOString(), worker: 'w' };
    expect(comparable(await eventsOf(c.slug, 3))).toEqual(comparable([
      { ...who, op: 'session', status: 200 },
      { ...who, op: 'create', status: 200, session: true, key, version: 1 },
      { ...who, op: 'read', status: 200, session: true, key, version: 1 },
    ] as AuditEvent[]));
  });
});

it('requests refused before the credential verified are folded into counted events without who', async () => {
  const stranger = callerWithJti('aud-stranger');
  const forged = { ...stranger, credential: `${stranger.credential.slice(0, -4)}AAAA` };
  for (let i = 0; i < 3; i++) expect(statusOf(await call(stack.nc, forged, request('versions', { key: 'x/y' }), 'json'))).toBe(401);
  await eventually('a folded event', async () => (await storedEvents(jsm)).some((s) => s.event.op === 'versions' && s.event.status === 401));
  const folded = (await storedEvents(jsm)).filter((s) => s.event.op === 'versions' && s.event.status === 401).map((s) => s.event);
  expect(folded.reduce((n, e) => n + (e.count ?? 0), 0)).toBe(3);
  for (const e of folded) {
    expect(e).toMatchObject({ code: 'unauthenticated' });
    expect(e).not.toHaveProperty('slug');
    expect(e).not.toHaveProperty('keyId');
  }
});

it('no event anywhere in the stream holds a value, a signature or a credential text', async () => {
  // Runs last in this file: every request above is in the stream by now.
  const all = await storedEvents(jsm);
  expect(all.length).toBeGreaterThan(30);
  for (const { raw } of all) {
    expect(raw).not.toContain(MARKER);
    expect(raw).not.toContain('"value"');
    expect(raw).not.toContain('"sig"');
    expect(raw).not.toContain('"cred"');
    expect(raw).not.toContain('"ticket"');
    expect(raw).not.toContain('"mac"');
    for (const credential of credentials) {
      for (const part of credential.split('.')) expect(raw).not.toContain(part);
    }
  }
});
