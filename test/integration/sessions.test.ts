/**
 * Sessions end to end (docs/protocol.md §12): handshakes and session requests against real
 * workers on real NATS and Redis, built with the protocol package's functions and the
 * client's RequestChannel over a raw `nc.request`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Msg, type NatsConnection } from 'nats';
import { SessionHandshakeError, type RequestChannelOptions, type SessionRequestFn } from '../../client/src/session.js';
import { RequestChannel } from '../helpers/session-manager.js';
import {
  agree, buildSessionEnvelope, decodeBody, deriveSessionKeys, encodeBody, errorFromBody, errorFromStatus, fromBase64url,
  generateJwk, generateSessionKeyPair, openSessionReplyObject, privateKeyObject, publicKeyObject, SessionReplyError,
  toBase64url, verifyHandshake, type Encoding, type SessionHandle, type SessionReply,
} from '@secret-svc/protocol';
import { runCli } from '../cli/in-process.js';
import { assemblePipeline } from '../fault/assemble.js';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack, type TestWorker } from '../helpers/stack.js';
import { startTestWorker } from '../helpers/worker.js';
import {
  call, claimsOf, ENCODINGS, envelope, expectError, expectOk, nonce, request, send, type RawReply,
} from '../helpers/wire.js';
import { SESSION_INVALID_MESSAGE } from '../../src/session/tickets.js';

let stack: Stack;
/** Same deployment, with a service key made by `secret-svc keygen`, on the subjects `svk.*`. */
let signing: TestWorker;
let servicePublicKey: string;
/** The same keyring and Redis but another subject prefix (`w2.*`): another deployment (§15). */
let second: TestWorker;
const dir = mkdtempSync(join(tmpdir(), 'secret-svc-svk-'));

beforeAll(async () => {
  stack = await startStack();
  const keygen = await runCli(['keygen', '--out', join(dir, 'service.jwk')]);
  expect(keygen.code, keygen.stderr).toBe(0);
  servicePublicKey = keygen.stdout.trim();
  [signing, second] = await Promise.all([
    startTestWorker({ ...stack.env, SECRET_SVC_SERVICE_KEY: join(dir, 'service.jwk'), SECRET_SVC_SUBJECT_PREFIX: 'svk', SECRET_SVC_AUDIT_STREAM: 'SVK_AUDIT' }),
    startTestWorker({ ...stack.env, SECRET_SVC_SUBJECT_PREFIX: 'w2', SECRET_SVC_AUDIT_STREAM: 'W2_AUDIT' }),
  ]);
});
afterAll(async () => {
  await Promise.allSettled([signing?.stop(), second?.stop()]);
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A RequestChannel transport: one raw NATS request, error replies thrown as their protocol errors. */
function transport(nc: NatsConnection): SessionRequestFn {
  return async (subject, body, timeoutMs) => {
    const r = await send(nc, subject, body, timeoutMs);
    if (r.code !== undefined) throw errorFromBody(r.body) ?? errorFromStatus(Number(r.code), r.message ?? '');
    return r.body;
  };
}

function manager(caller: TestCaller, encoding: Encoding, extra: Partial<RequestChannelOptions> = {}): RequestChannel {
  return new RequestChannel({
    identity: { credential: caller.credential, key: privateKeyObject(caller.key) },
    request: transport(stack.nc), encoding, env: {}, ...extra,
  });
}

interface RawSession {
  handle: SessionHandle;
  reply: SessionReply;
  epk: Uint8Array;
}

/** A handshake from the protocol functions alone: a signed `session` request with a fresh epk. */
async function openRaw(caller: TestCaller, encoding: Encoding, prefix = 'secret'): Promise<RawSession> {
  const own = generateSessionKeyPair();
  const reply = expectOk(await call(stack.nc, caller, request('session', { epk: toBase64url(own.publicKey) }), encoding, { prefix }), encoding) as SessionReply;
  const spk = fromBase64url(reply.spk)!;
  return { handle: { ticket: reply.ticket, keys: deriveSessionKeys(agree(own.privateKey, spk), own.publicKey, spk) }, reply, epk: own.publicKey };
}

interface SessionSend {
  raw: RawReply;
  mac: Uint8Array;
  body: Uint8Array;
}

async function sendSession(handle: SessionHandle, req: Record<string, unknown>, encoding: Encoding, prefix = 'secret'): Promise<SessionSend> {
  const built = buildSessionEnvelope(handle, req, encoding);
  return { raw: await send(stack.nc, `${prefix}.${String(req.op)}`, built.body), mac: built.mac, body: built.body };
}

/** The opened success reply: `{sealed}` only, opened with the request's MAC. */
function opened(handle: SessionHandle, s: SessionSend, encoding: Encoding): any {
  const body = expectOk(s.raw, encoding);
  expect(Object.keys(body)).toEqual(['sealed']);
  return openSessionReplyObject(handle.keys.replyKey, s.mac, body, encoding);
}

/** A decoded envelope map changed by `edit` and encoded again. */
function rewrite(body: Uint8Array, encoding: Encoding, edit: (m: Record<string, unknown>) => void): Uint8Array {
  const map = decodeBody(body, encoding) as Record<string, unknown>;
  edit(map);
  return encodeBody(map, encoding);
}

describe.each(ENCODINGS)('sessions (%s)', (encoding) => {
  const slug = `ss-${encoding}`;
  let me: TestCaller;
  beforeAll(() => { me = stack.issuer.caller(slug, { ttlSeconds: 7200 }); });

  it('the RequestChannel opens one session and reads, creates, updates, batch reads and lists through it', async () => {
    const m = manager(me, encoding);
    const key = `${slug}/mgr/a`;
    expect(await m.call('create', { key, value: 'one' }, 5000)).toMatchObject({ key, version: 1 });
    expect(await m.call('read', { key }, 5000)).toMatchObject({ key, value: 'one', version: 1 });
    expect(await m.call('update', { key, value: 'two' }, 5000)).toMatchObject({ key, version: 2 });
    await m.call('create', { key: `${slug}/mgr/b`, value: 'bee' }, 5000);
    const many = await m.call('read', { keys: [key, `${slug}/mgr/b`, `${slug}/mgr/none`] }, 5000) as any;
    expect(many.secrets.map((s: { value: string }) => s.value)).toEqual(['two', 'bee']);
    expect(many.missing).toEqual([`${slug}/mgr/none`]);
    const listed = await m.call('list', { prefix: `${slug}/mgr/` }, 5000) as any;
    expect(listed.secrets.map((s: { key: string }) => s.key).sort()).toEqual([key, `${slug}/mgr/b`]);
    // A whoami through a session reports the credential's expiry.
    expect(await m.call('whoami', {}, 5000)).toEqual({
      slug, admin: false, issuer: stack.issuer.publicKey, expiresAt: new Date(Number(claimsOf(me.credential).exp) * 1000).toISOString(),
    });
    expect(m.handshakes).toBe(1);
    expect(m.signedOnly).toBe(false);
  });

  it('the handshake reply is {ticket, spk, expiresAt} in the clear, unsigned without a service key', async () => {
    const { reply } = await openRaw(me, encoding);
    expect(Object.keys(reply).sort()).toEqual(['expiresAt', 'spk', 'ticket']);
    expect(Date.parse(reply.expiresAt) - Date.now()).toBeLessThanOrEqual(3600_000);
    expect(Date.parse(reply.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
  });

  it('a subscriber on every subject sees no value of a session create, update, read, batch read or list', async () => {
    const watcher = await connect({ servers: stack.nats.url, noAsyncTraces: true });
    const seen: Msg[] = [];
    const sub = watcher.subscribe('>', { callback: (_err, msg) => { seen.push(msg); } });
    await watcher.flush();
    const created = `MARKER-${randomBytes(9).toString('hex')}`;
    const updated = `MARKER-${randomBytes(9).toString('hex')}`;
    const m = manager(me, encoding);
    const key = `${slug}/wire/k`;
    await m.call('create', { key, value: created }, 5000);
    expect(await m.call('read', { key }, 5000)).toMatchObject({ value: created });
    await m.call('update', { key, value: updated }, 5000);
    expect(await m.call('read', { key }, 5000)).toMatchObject({ value: updated });
    expect((await m.call('read', { keys: [key] }, 5000) as any).secrets[0].value).toBe(updated);
    await m.call('list', { prefix: `${slug}/wire/` }, 5000);
    await watcher.flush();
    sub.unsubscribe();
    await watcher.close();
    // Requests and their replies both went past the watcher.
    const subjects = new Set(seen.map((s) => s.subject.startsWith('_INBOX.') ? '_INBOX' : s.subject));
    for (const s of ['secret.session', 'secret.create', 'secret.update', 'secret.read', 'secret.list', '_INBOX']) expect(subjects).toContain(s);
    for (const marker of [created, updated]) {
      const bytes = Buffer.from(marker, 'utf8');
      expect(seen.filter((s) => Buffer.from(s.data).includes(bytes)).map((s) => s.subject)).toEqual([]);
    }
  });

  it('a resent session write gets its first reply, sealed afresh, and applies once', async () => {
    const { handle } = await openRaw(me, encoding);
    const key = `${slug}/resend`;
    const built = buildSessionEnvelope(handle, request('create', { key, value: 'once' }), encoding);
    const first = await send(stack.nc, 'secret.create', built.body);
    const again = await send(stack.nc, 'secret.create', built.body);
    const a = opened(handle, { raw: first, mac: built.mac, body: built.body }, encoding);
    const b = opened(handle, { raw: again, mac: built.mac, body: built.body }, encoding);
    expect(a).toMatchObject({ key, version: 1 });
    expect(b).toEqual(a);
    expect(Buffer.from(again.data).equals(Buffer.from(first.data))).toBe(false);
    const read = await sendSession(handle, request('read', { key }), encoding);
    expect(opened(handle, read, encoding)).toMatchObject({ value: 'once', version: 1 });
  });

  it('the same request object sealed again is a reused nonce (401); nonces are shared with signed requests', async () => {
    const { handle } = await openRaw(me, encoding);
    const req = request('whoami');
    opened(handle, await sendSession(handle, req, encoding), encoding);
    expectError((await sendSession(handle, req, encoding)).raw, 401, encoding);
    const shared = request('whoami', {}, { nonce: nonce() });
    expectOk(await call(stack.nc, me, shared, encoding), encoding);
    expectError((await sendSession(handle, shared, encoding)).raw, 401, encoding);
  });

  it('a tampered MAC or ticket is 401; a ticket that does not open says the session is no longer valid', async () => {
    const { handle } = await openRaw(me, encoding);
    const badMac = await sendSession({ ...handle, keys: { ...handle.keys, macKey: randomBytes(32) } }, request('whoami'), encoding);
    expectError(badMac.raw, 401, encoding);
    expect(badMac.raw.message).not.toBe(SESSION_INVALID_MESSAGE);
    const t = handle.ticket;
    const flipped = t.slice(0, 20) + (t[20] === 'A' ? 'B' : 'A') + t.slice(21);
    for (const ticket of [flipped, t.slice(0, -1), 'x', 'A'.repeat(1024)]) {
      // The MAC is right for the changed ticket: only the ticket check can refuse it.
      const r = await sendSession({ ticket, keys: handle.keys }, request('whoami'), encoding);
      expectError(r.raw, 401, encoding);
      expect(r.raw.message).toBe(SESSION_INVALID_MESSAGE);
    }
  });

  it('an expired ticket (a worker clock past expiresAt) and a ticket of another deployment are 401', async () => {
    const { handle } = await openRaw(me, encoding);
    const later = await assemblePipeline(stack.env, () => Date.now() + 2 * 3600_000);
    try {
      const outcome = await later.handler.handle('whoami', buildSessionEnvelope(handle, request('whoami'), encoding).body);
      expect({ status: outcome.status, message: outcome.error?.message, session: outcome.session })
        .toEqual({ status: 401, message: SESSION_INVALID_MESSAGE, session: true });
    } finally {
      later.close();
    }
    // Another deployment: its own keyring and Redis prefix, the same issuer.
    const other = await assemblePipeline({
      ...stack.env, SECRET_SVC_ENCRYPTION_KEY: randomBytes(32).toString('base64'), SECRET_SVC_REDIS_PREFIX: `other-${encoding}:`,
    });
    try {
      const own = generateSessionKeyPair();
      const outcome = await other.handler.handle('session', envelope(me, request('session', { epk: toBase64url(own.publicKey) }), encoding));
      expect(outcome.status).toBe(200);
      const reply = decodeBody(outcome.body, encoding) as SessionReply;
      const spk = fromBase64url(reply.spk)!;
      const foreign = { ticket: reply.ticket, keys: deriveSessionKeys(agree(own.privateKey, spk), own.publicKey, spk) };
      // The other deployment's worker takes it; ours does not.
      const there = await other.handler.handle('whoami', buildSessionEnvelope(foreign, request('whoami'), encoding).body);
      expect(there.status).toBe(200);
      const here = await sendSession(foreign, request('whoami'), encoding);
      expectError(here.raw, 401, encoding);
      expect(here.raw.message).toBe(SESSION_INVALID_MESSAGE);
    } finally {
      other.close();
    }
  });

  it('a small-order, out-of-range or non-canonical epk is 400', async () => {
    const good = toBase64url(generateSessionKeyPair().publicKey);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(good.at(-1)!);
    const nonCanonical = good.slice(0, -1) + alphabet[(last & ~3) | 1];
    const order8 = Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex');
    for (const epk of [toBase64url(Buffer.alloc(32)), toBase64url(order8), toBase64url(Buffer.alloc(32, 0xff)), nonCanonical, `${good}A`, good.slice(1)]) {
      expectError(await call(stack.nc, me, request('session', { epk }), encoding), 400, encoding);
    }
  });

  it('a session request inside a session envelope is 400, before its ticket is looked at', async () => {
    const { handle } = await openRaw(me, encoding);
    const req = request('session', { epk: toBase64url(generateSessionKeyPair().publicKey) });
    expectError((await sendSession(handle, req, encoding)).raw, 400, encoding);
    expectError((await sendSession({ ticket: 'not-a-ticket', keys: handle.keys }, req, encoding)).raw, 400, encoding);
  });

  it('cred or sig fields mixed into a session envelope are 400', async () => {
    const { handle } = await openRaw(me, encoding);
    const built = buildSessionEnvelope(handle, request('whoami'), encoding);
    for (const field of ['cred', 'sig']) {
      const body = rewrite(built.body, encoding, (map) => { map[field] = field === 'cred' ? me.credential : toBase64url(randomBytes(64)); });
      expectError(await send(stack.nc, 'secret.whoami', body), 400, encoding);
    }
  });

  it('the client manager refuses a reply that answers another request', async () => {
    const m = manager(me, encoding);
    await m.call('create', { key: `${slug}/swap/a`, value: 'a' }, 5000);
    await m.call('create', { key: `${slug}/swap/b`, value: 'b' }, 5000);
    const one = m.begin('read', { key: `${slug}/swap/a` });
    const two = m.begin('read', { key: `${slug}/swap/b` });
    const [r1, r2] = await Promise.all([send(stack.nc, one.subject, await one.body(5000)), send(stack.nc, two.subject, await two.body(5000))]);
    expect(() => one.open(r2.body)).toThrow(SessionReplyError);
    expect(() => two.open(r1.body)).toThrow(SessionReplyError);
    expect(one.open(r1.body)).toMatchObject({ value: 'a' });
    expect(two.open(r2.body)).toMatchObject({ value: 'b' });
  });

  it('with a service key the handshake is signed, and a manager pinning that key uses it', async () => {
    const { reply, epk } = await openRaw(me, encoding, 'svk');
    expect(typeof reply.sig).toBe('string');
    expect(verifyHandshake(publicKeyObject(servicePublicKey), epk, reply)).toBe(true);
    expect(verifyHandshake(publicKeyObject(generateJwk().x), epk, reply)).toBe(false);
    const m = manager(me, encoding, { subjectPrefix: 'svk', servicePublicKey });
    expect(await m.call('whoami', {}, 5000)).toMatchObject({ slug });
    expect(m.handshakes).toBe(1);
  });

  it('a manager pinning the service key refuses an unsigned or foreign-signed handshake and never falls back', async () => {
    const unsigned = manager(me, encoding, { servicePublicKey });
    for (let i = 0; i < 2; i++) await expect(unsigned.call('whoami', {}, 5000)).rejects.toThrow(SessionHandshakeError);
    expect(unsigned.handshakes).toBe(2);
    expect(unsigned.signedOnly).toBe(false);
    const forged = manager(me, encoding, { subjectPrefix: 'svk', servicePublicKey: generateJwk().x });
    await expect(forged.call('whoami', {}, 5000)).rejects.toThrow(/not signed by the pinned service key/);
    expect(forged.signedOnly).toBe(false);
  });

  it('two workers of the deployment both answer one session\'s requests', async () => {
    const peer = await startTestWorker(stack.env);
    try {
      const served = (w: TestWorker) => ['update', 'read'].reduce((n, op) => n + w.service.stats.get(op as 'read')!.counters().num_requests, 0);
      const before = [served(stack.worker), served(peer)];
      const { handle } = await openRaw(me, encoding);
      const key = `${slug}/two/k`;
      expect(opened(handle, await sendSession(handle, request('create', { key, value: 'v1' }), encoding), encoding)).toMatchObject({ version: 1 });
      // The queue group spreads them: 24 requests all on one of two workers would be a 1 in 8 million chance.
      for (let i = 0; i < 12; i++) {
        const value = `v${i + 2}`;
        expect(opened(handle, await sendSession(handle, request('update', { key, value }), encoding), encoding)).toMatchObject({ version: i + 2 });
        expect(opened(handle, await sendSession(handle, request('read', { key }), encoding), encoding)).toMatchObject({ value, version: i + 2 });
      }
      expect(served(stack.worker)).toBeGreaterThan(before[0]!);
      expect(served(peer)).toBeGreaterThan(before[1]!);
    } finally {
      await peer.stop();
    }
  });

  it('a ticket does not open on a worker of another subject prefix sharing the keyring (§15): 401', async () => {
    const { handle } = await openRaw(me, encoding);
    const key = `${slug}/bound/k`;
    expect(opened(handle, await sendSession(handle, request('create', { key, value: 'v' }), encoding), encoding)).toMatchObject({ version: 1 });
    const there = await sendSession(handle, request('read', { key }), encoding, 'w2');
    expectError(there.raw, 401, encoding);
    expect(there.raw.message).toBe(SESSION_INVALID_MESSAGE);
    // The same caller signing its requests is served there: only the ticket is refused.
    expect(expectOk(await call(stack.nc, me, request('read', { key }), encoding, { prefix: 'w2' }), encoding)).toMatchObject({ value: 'v' });
  });
});

describe('tickets bound to their deployment, issuers re-checked (§15)', () => {
  const encoding: Encoding = 'json';
  /** One worker at a time on `bind.*` (its own stream), over the stack's NATS, Redis and keyring. */
  const base = () => ({ ...stack.env, SECRET_SVC_SUBJECT_PREFIX: 'bind', SECRET_SVC_AUDIT_STREAM: 'BIND_AUDIT' });
  async function withWorker<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
    const w = await startTestWorker(env);
    try {
      return await body();
    } finally {
      await w.stop();
    }
  }
  let me: TestCaller;
  let handle: SessionHandle;
  const key = 'bind-svc/k';
  beforeAll(async () => {
    me = stack.issuer.caller('bind-svc', { ttlSeconds: 7200 });
    await withWorker(base(), async () => {
      ({ handle } = await openRaw(me, encoding, 'bind'));
      expect(opened(handle, await sendSession(handle, request('create', { key, value: 'v' }), encoding, 'bind'), encoding)).toMatchObject({ version: 1 });
    });
  });

  it('the ticket opens on a restarted worker with the same settings', async () => {
    await withWorker(base(), async () => {
      expect(opened(handle, await sendSession(handle, request('read', { key }), encoding, 'bind'), encoding)).toMatchObject({ value: 'v' });
    });
  });

  it('a worker with another SECRET_SVC_AUDIENCE and the same keyring refuses it: 401', async () => {
    await withWorker({ ...base(), SECRET_SVC_AUDIENCE: 'secret-svc-staging' }, async () => {
      const r = await sendSession(handle, request('read', { key }, { aud: 'secret-svc-staging' }), encoding, 'bind');
      expectError(r.raw, 401, encoding);
      expect(r.raw.message).toBe(SESSION_INVALID_MESSAGE);
      expect(expectOk(await call(stack.nc, me, request('read', { key }, { aud: 'secret-svc-staging' }), encoding, { prefix: 'bind' }), encoding))
        .toMatchObject({ value: 'v' });
    });
  });

  it('a worker whose SECRET_SVC_ISSUERS no longer holds the credential\'s issuer refuses the session: 401', async () => {
    await withWorker({ ...base(), SECRET_SVC_ISSUERS: generateJwk().x }, async () => {
      const r = await sendSession(handle, request('read', { key }), encoding, 'bind');
      expectError(r.raw, 401, encoding);
      expect(r.raw.message).toBe('credential issuer is not trusted');
    });
  });
});

describe('secret-svc keygen', () => {
  it('says in its help that it makes the service key', async () => {
    const help = await runCli(['keygen', '--help']);
    expect(help.stdout).toMatch(/SECRET_SVC_SERVICE_KEY/);
    expect(help.stdout).toMatch(/SECRET_SVC_SERVICE_PUBLIC_KEY/);
  });
});
