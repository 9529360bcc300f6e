/**
 * The client's RequestChannel against the worker's session modules (a fake transport, no bus):
 * one handshake for many callers, renewal, one reopen on "no longer valid", sealed replies
 * checked, a pinned service key, and the fallback to signed requests.
 */
import { describe, expect, it } from 'vitest';
import {
  errorFromStatus, generateJwk, privateKeyObject, SecretSvcError, SessionReplyError, toBase64url, UnauthenticatedError,
} from '@secret-svc/protocol';
import {
  isSessionInvalid, SESSION_INVALID_MESSAGE as CLIENT_MESSAGE, SessionHandshakeError, type RequestChannelOptions,
} from '../../client/src/session.js';
import { RequestChannel } from '../helpers/session-manager.js';
import { SESSION_INVALID_MESSAGE, TicketBox } from '../../src/session/tickets.js';
import { FakeWorker, ringKey, swapReadReplies } from './session-fixtures.js';
import { Sealer } from '../../src/store/seal.js';

const service = generateJwk();
const serviceKey = privateKeyObject(service);

function manager(worker: FakeWorker, o: Partial<RequestChannelOptions> = {}): RequestChannel {
  return new RequestChannel({
    identity: worker.identity(),
    request: worker.request,
    now: () => worker.nowMs,
    env: {},
    ...o,
  });
}

const read = (m: RequestChannel, key = 'a/b') => m.call('read', { key }, 1000) as Promise<{ echo: { key: string; nonce: string }; over: string }>;

describe('RequestChannel: sessions by default', () => {
  it('the client and the worker agree on the "no longer valid" message', () => {
    expect(CLIENT_MESSAGE).toBe(SESSION_INVALID_MESSAGE);
  });

  it.each(['json', 'msgpack'] as const)('opens a session on first use and sends requests over it (%s)', async (encoding) => {
    const worker = new FakeWorker();
    const m = manager(worker, { encoding });
    const reply = await read(m);
    expect(reply).toMatchObject({ over: 'session', echo: { op: 'read', key: 'a/b', aud: 'secret-svc', ts: worker.nowMs } });
    expect(worker.seen.map((s) => `${s.op}:${s.kind}`)).toEqual(['session:signed', 'read:session']);
  });

  it('opens one session for 20 concurrent calls', async () => {
    const worker = new FakeWorker();
    const m = manager(worker);
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => read(m, `k/${i}`)));
    expect(replies.map((r) => r.echo.key)).toEqual(Array.from({ length: 20 }, (_, i) => `k/${i}`));
    expect(worker.handshakes).toBe(1);
    expect(m.handshakes).toBe(1);
    expect(new Set(worker.seen.filter((s) => s.op === 'read').map((s) => s.ticket)).size).toBe(1);
  });

  it('gives each read attempt a fresh nonce and resends a write as the identical bytes', async () => {
    const worker = new FakeWorker();
    const m = manager(worker);
    const readCall = m.begin('read', { key: 'a/b' });
    const r1 = await readCall.body(1000);
    const r2 = await readCall.body(1000);
    expect(Buffer.from(r1).equals(r2)).toBe(false);
    const write = m.begin('update', { key: 'a/b', value: 'x' });
    expect(Buffer.from(await write.body(1000)).equals(await write.body(1000))).toBe(true);
  });

  it('renews before expiresAt, in the background, then uses the new ticket', async () => {
    const worker = new FakeWorker({ ttlMs: 100_000 });
    const m = manager(worker, { renewMarginMs: 10_000 });
    await read(m);
    const first = worker.seen.at(-1)!.ticket;
    worker.nowMs += 89_000;
    await read(m);
    expect(worker.handshakes).toBe(1);
    worker.nowMs += 2_000; // 91 s of 100: inside the margin
    await read(m); // still over the current session while the new one opens
    expect(worker.seen.at(-1)!.ticket).toBe(first);
    await new Promise((r) => setTimeout(r, 20));
    expect(worker.handshakes).toBe(2);
    await read(m);
    const second = worker.seen.at(-1)!.ticket;
    expect(second).not.toBe(first);
    expect(worker.seen.at(-1)!.status).toBe(200);
  });

  it('opens a new session in the foreground once the current one has expired', async () => {
    const worker = new FakeWorker({ ttlMs: 100_000 });
    const m = manager(worker, { renewMarginMs: 10_000 });
    await read(m);
    worker.nowMs += 100_000;
    await read(m);
    expect(worker.handshakes).toBe(2);
    expect(worker.seen.filter((s) => s.status !== 200)).toEqual([]);
  });

  it('reopens once when the worker says the session is no longer valid (a keyring change), and retries', async () => {
    const worker = new FakeWorker();
    const m = manager(worker);
    await read(m);
    worker.tickets = new TicketBox(new Sealer([ringKey()])); // the key that sealed the ticket left the ring
    const reply = await read(m);
    expect(reply.over).toBe('session');
    expect(worker.seen.map((s) => `${s.op}:${s.status}`)).toEqual(['session:200', 'read:200', 'read:401', 'session:200', 'read:200']);
  });

  it('reopens a write whose first send was refused so (nothing was applied)', async () => {
    const worker = new FakeWorker();
    const m = manager(worker);
    await read(m);
    worker.tickets = new TicketBox(new Sealer([ringKey()]));
    await expect(m.call('update', { key: 'a/b', value: 'x' }, 1000)).resolves.toMatchObject({ over: 'session' });
    expect(worker.handshakes).toBe(2);
  });

  it('does not reopen a write that was resent (its first send may have been applied), nor twice', async () => {
    const worker = new FakeWorker();
    const m = manager(worker);
    const invalid = errorFromStatus(401, SESSION_INVALID_MESSAGE);
    expect(isSessionInvalid(invalid)).toBe(true);
    expect(isSessionInvalid(new UnauthenticatedError('credential has been revoked'))).toBe(false);

    const resent = m.begin('update', { key: 'a/b', value: 'x' });
    await resent.body(1000);
    await resent.body(1000);
    expect(resent.reopen(invalid)).toBe(false);

    const once = m.begin('read', { key: 'a/b' });
    await once.body(1000);
    expect(once.reopen(invalid)).toBe(true);
    await once.body(1000);
    expect(once.reopen(invalid)).toBe(false);
  });

  it('gives up after one reopen when the new session is refused too', async () => {
    const worker = new FakeWorker();
    const m = manager(worker);
    worker.tamper = (op, reply) => (op === 'session' ? { ...(reply as object), ticket: 'AAAA' } : reply);
    const err = await m.call('read', { key: 'a/b' }, 1000).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, message: SESSION_INVALID_MESSAGE });
    expect(worker.handshakes).toBe(2);
  });

  it('refuses a reply sealed for another request (a swapped reply)', async () => {
    const worker = new FakeWorker();
    const m = manager(worker);
    swapReadReplies(worker);
    await read(m);
    await expect(read(m)).rejects.toBeInstanceOf(SessionReplyError);
  });

  it('refuses a success reply that is not sealed', async () => {
    const worker = new FakeWorker();
    const m = manager(worker);
    worker.tamper = (op, reply) => (op === 'read' ? { key: 'a/b', value: 'forged' } : reply);
    await expect(read(m)).rejects.toBeInstanceOf(SessionReplyError);
  });

  it('reopens when the worker finds the ticket expired before the client does (clocks apart)', async () => {
    const worker = new FakeWorker({ ttlMs: 100_000 });
    let lag = 0;
    const m = manager(worker, { now: () => worker.nowMs - lag });
    await read(m);
    worker.nowMs += 100_000;
    lag = 70_000; // the client still sees 70 s left, outside the renewal margin
    await expect(read(m)).resolves.toMatchObject({ over: 'session' });
    expect(worker.seen.map((s) => `${s.op}:${s.status}`)).toEqual(['session:200', 'read:200', 'read:401', 'session:200', 'read:200']);
  });

  it('passes any other error through, without a reopen', async () => {
    const worker = new FakeWorker();
    const stranger = new FakeWorker(); // another issuer: the handshake is refused with a plain 401
    const m = new RequestChannel({ identity: stranger.identity(), request: worker.request, now: () => worker.nowMs, env: {} });
    const err = await read(m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretSvcError);
    expect(err).toMatchObject({ status: 401, message: 'credential issuer is not trusted' });
    expect(worker.handshakes).toBe(1);
  });
});

describe('RequestChannel: a pinned service key', () => {
  it('accepts a handshake signed by the pinned key (option)', async () => {
    const worker = new FakeWorker({ serviceKey });
    const m = manager(worker, { servicePublicKey: service.x });
    await expect(read(m)).resolves.toMatchObject({ over: 'session' });
  });

  it('reads the pinned key from SECRET_SVC_SERVICE_PUBLIC_KEY', async () => {
    const worker = new FakeWorker();
    const m = manager(worker, { env: { SECRET_SVC_SERVICE_PUBLIC_KEY: service.x } });
    expect(m.pinned).toBeDefined();
    await expect(read(m)).rejects.toBeInstanceOf(SessionHandshakeError);
  });

  it('refuses an unsigned handshake and never falls back to signed requests', async () => {
    const worker = new FakeWorker();
    const m = manager(worker, { servicePublicKey: service.x });
    const err = await read(m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionHandshakeError);
    expect((err as Error).message).toMatch(/not signed/);
    await expect(read(m)).rejects.toBeInstanceOf(SessionHandshakeError);
    expect(worker.seen.filter((s) => s.op !== 'session')).toEqual([]);
  });

  it('refuses a handshake signed by another key, or altered after signing', async () => {
    const forger = new FakeWorker({ serviceKey: privateKeyObject(generateJwk()) });
    await expect(read(manager(forger, { servicePublicKey: service.x }))).rejects.toBeInstanceOf(SessionHandshakeError);

    const worker = new FakeWorker({ serviceKey });
    worker.tamper = (op, reply) => (op === 'session' ? { ...(reply as object), expiresAt: '2099-01-01T00:00:00.000Z' } : reply);
    await expect(read(manager(worker, { servicePublicKey: service.x }))).rejects.toBeInstanceOf(SessionHandshakeError);
    expect(worker.seen.filter((s) => s.op !== 'session')).toEqual([]);
  });

  it('does not fall back when nobody serves the session subject', async () => {
    const worker = new FakeWorker({ sessions: false });
    const m = manager(worker, { servicePublicKey: service.x });
    await expect(read(m)).rejects.toMatchObject({ code: '503' });
    expect(m.signedOnly).toBe(false);
    expect(worker.seen).toEqual([]);
  });

  it('refuses an unusable pinned key at construction, naming where it came from', () => {
    const worker = new FakeWorker();
    expect(() => manager(worker, { env: { SECRET_SVC_SERVICE_PUBLIC_KEY: 'nope' } })).toThrow(/SECRET_SVC_SERVICE_PUBLIC_KEY/);
    expect(() => manager(worker, { servicePublicKey: toBase64url(Buffer.alloc(32)) })).toThrow(/servicePublicKey/);
  });
});

describe('RequestChannel: signed requests', () => {
  it('falls back when nobody serves the session subject (a 1.0 worker), and tries again later', async () => {
    const worker = new FakeWorker({ sessions: false });
    const m = manager(worker, { fallbackRecheckMs: 60_000 });
    await expect(read(m)).resolves.toMatchObject({ over: 'signed' });
    await expect(read(m)).resolves.toMatchObject({ over: 'signed' });
    expect(m.signedOnly).toBe(true);
    expect(m.handshakes).toBe(1);
    worker.sessions = true;
    worker.nowMs += 60_000;
    await expect(read(m)).resolves.toMatchObject({ over: 'session' });
  });

  it('falls back on a 400 for the session op', async () => {
    const worker = new FakeWorker();
    const m = manager(worker, {
      request: (subject, body, t) => (subject.endsWith('.session') ? Promise.reject(errorFromStatus(400, 'unknown op')) : worker.request(subject, body, t)),
    });
    await expect(read(m)).resolves.toMatchObject({ over: 'signed' });
  });

  it('sends signed requests only when sessions are turned off', async () => {
    const worker = new FakeWorker();
    const m = manager(worker, { sessions: false });
    await expect(read(m)).resolves.toMatchObject({ over: 'signed' });
    expect(worker.handshakes).toBe(0);
  });
});
