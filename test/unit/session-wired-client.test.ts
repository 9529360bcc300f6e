/**
 * SecretClient with sessions wired in, against the worker's session modules behind a fake
 * NATS connection (test/unit/session-fixtures.ts): sessions by default, `sessions: false`,
 * a pinned service key, the fallback against a worker without sessions, the call's deadline
 * and signal while a handshake is pending, and one handshake for many concurrent calls.
 */
import { ErrorCode } from 'nats';
import { describe, expect, it, vi } from 'vitest';
import {
  encodeBody, generateJwk, privateKeyObject, SecretSvcError, sniffEncoding, type Encoding,
} from '@secret-svc/protocol';
import {
  SecretClient, SessionHandshakeError, SessionReplyError, UnavailableError, type ClientOptions, type NatsRequester, type ReplyMsg,
} from '@secret-svc/client';
import { TicketBox } from '../../src/session/tickets.js';
import { FakeWorker, ringKey, swapReadReplies } from './session-fixtures.js';
import { Sealer } from '../../src/store/seal.js';

const service = generateJwk();

/** Counts signed envelopes the client builds (each one an Ed25519 signature). */
const signatures = vi.hoisted(() => ({ count: 0 }));
vi.mock('@secret-svc/protocol', async (importOriginal) => {
  const real = await importOriginal<typeof import('@secret-svc/protocol')>();
  return {
    ...real,
    buildEnvelope: (...args: Parameters<typeof real.buildEnvelope>) => {
      signatures.count++;
      return real.buildEnvelope(...args);
    },
  };
});

interface Echo { over: 'session' | 'signed'; echo: { op: string; key?: string; value?: string } }

/** A NATS connection whose far side is the fake worker; error replies travel as the worker sends them. */
class FakeConnection implements NatsRequester {
  /** Nobody answers the session subject: requests there time out (a worker stuck mid-handshake). */
  silentSessions = false;
  readonly subjects: string[] = [];

  constructor(private readonly worker: FakeWorker) {}

  async request(subject: string, payload: Uint8Array, opts: { timeout: number }): Promise<ReplyMsg> {
    this.subjects.push(subject);
    const encoding: Encoding = sniffEncoding(payload);
    if (this.silentSessions && subject.endsWith('.session')) {
      await new Promise((r) => setTimeout(r, opts.timeout));
      throw Object.assign(new Error('TIMEOUT'), { code: ErrorCode.Timeout });
    }
    try {
      return { data: encodeBody(await this.worker.request(subject, payload, opts.timeout), encoding) };
    } catch (err) {
      if (!(err instanceof SecretSvcError)) throw err; // no responders: as NATS throws it
      return { data: encodeBody({ error: { status: err.status, code: err.code, message: err.message } }, encoding) };
    }
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  async closed(): Promise<void> {}
  isClosed(): boolean {
    return false;
  }
}

function setup(workerOptions: ConstructorParameters<typeof FakeWorker>[0] = {}, clientOptions: ClientOptions = {}) {
  const worker = new FakeWorker(workerOptions);
  worker.nowMs = Date.now(); // the client stamps requests with the real clock
  const nc = new FakeConnection(worker);
  const { credential, jwk } = worker.identity();
  const connect = (extra: ClientOptions = {}) => SecretClient.connect({ nc, credential, key: jwk, ...clientOptions, ...extra });
  return { worker, nc, credential, jwk, connect };
}

const kinds = (worker: FakeWorker) => worker.seen.map((s) => `${s.op}:${s.kind}:${s.status}`);

describe('SecretClient over sessions', () => {
  it('opens a session on the first call and sends reads and writes over it (sessions by default)', async () => {
    const { worker, connect } = setup();
    const client = await connect();
    const read = (await client.read('app-1/A')) as unknown as Echo;
    const created = (await client.create('app-1/B', 'marker-value')) as unknown as Echo;
    expect(read).toMatchObject({ over: 'session', echo: { op: 'read', key: 'app-1/A' } });
    expect(created).toMatchObject({ over: 'session', echo: { op: 'create', key: 'app-1/B', value: 'marker-value' } });
    expect(kinds(worker)).toEqual(['session:signed:200', 'read:session:200', 'create:session:200']);
    expect(client.signedOnly).toBe(false);
  });

  it.each(['json', 'msgpack'] as const)('speaks sessions in %s', async (encoding) => {
    const { worker, connect } = setup({}, { encoding });
    const client = await connect();
    await expect(client.whoami()).resolves.toMatchObject({ over: 'session' });
    expect(kinds(worker)).toEqual(['session:signed:200', 'whoami:session:200']);
  });

  it('sends signed envelopes only with sessions: false', async () => {
    const { worker, connect } = setup({}, { sessions: false });
    const client = await connect();
    await expect(client.read('app-1/A')).resolves.toMatchObject({ over: 'signed' });
    await expect(client.create('app-1/B', 'v')).resolves.toMatchObject({ over: 'signed' });
    expect(kinds(worker)).toEqual(['read:signed:200', 'create:signed:200']);
    expect(client.signedOnly).toBe(true);
  });

  it('opens one session for 50 concurrent reads', async () => {
    const { worker, connect } = setup();
    const client = await connect();
    const keys = Array.from({ length: 50 }, (_, i) => `app-1/K${i}`);
    const replies = (await Promise.all(keys.map((k) => client.read(k)))) as unknown as Echo[];
    expect(replies.map((r) => r.echo.key)).toEqual(keys);
    expect(replies.every((r) => r.over === 'session')).toBe(true);
    expect(worker.handshakes).toBe(1);
    expect(new Set(worker.seen.filter((s) => s.op === 'read').map((s) => s.ticket)).size).toBe(1);
  });

  it('signs only the handshake: a request over the session costs no Ed25519 signature', async () => {
    const { connect } = setup();
    const client = await connect();
    const before = signatures.count;
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.read(`app-1/K${i}`)));
    await client.create('app-1/NEW', 'v');
    expect(signatures.count - before).toBe(1);
    const signed = await connect({ sessions: false });
    const ref = signatures.count;
    await signed.read('app-1/A');
    expect(signatures.count - ref).toBe(1); // the counter sees signed requests
  });

  it('replaces a session the worker no longer accepts, once, within the same call', async () => {
    const { worker, connect } = setup();
    const client = await connect({ retries: 0 }); // the reopen is not a retry
    await client.read('app-1/A');
    worker.tickets = new TicketBox(new Sealer([ringKey()])); // a keyring change retired the ticket's key
    await expect(client.read('app-1/A')).resolves.toMatchObject({ over: 'session' });
    expect(kinds(worker)).toEqual(['session:signed:200', 'read:session:200', 'read:session:401', 'session:signed:200', 'read:session:200']);
  });

  it('refuses a success reply that answers another request', async () => {
    const { worker, connect } = setup();
    const client = await connect();
    swapReadReplies(worker);
    await client.read('app-1/A');
    await expect(client.read('app-1/B')).rejects.toBeInstanceOf(SessionReplyError);
  });
});

describe('SecretClient: a worker without sessions', () => {
  it('falls back to signed requests when nobody serves <prefix>.session', async () => {
    const { worker, nc, connect } = setup({ sessions: false });
    const client = await connect();
    await expect(client.read('app-1/A')).resolves.toMatchObject({ over: 'signed' });
    await expect(client.read('app-1/B')).resolves.toMatchObject({ over: 'signed' });
    expect(nc.subjects).toEqual(['secret.session', 'secret.read', 'secret.read']); // asked once, then signed
    expect(client.signedOnly).toBe(true);
    expect(worker.handshakes).toBe(0);
  });
});

describe('SecretClient: a pinned service key', () => {
  it('accepts a handshake signed by the pinned key', async () => {
    const { connect } = setup({ serviceKey: privateKeyObject(service) }, { servicePublicKey: service.x });
    const client = await connect();
    await expect(client.read('app-1/A')).resolves.toMatchObject({ over: 'session' });
  });

  it('refuses an unsigned handshake and never falls back to signed requests', async () => {
    const { worker, connect } = setup({}, { servicePublicKey: service.x });
    const client = await connect();
    const err = await client.read('app-1/A').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionHandshakeError);
    expect((err as Error).message).toMatch(/not signed/);
    await expect(client.create('app-1/B', 'v')).rejects.toBeInstanceOf(SessionHandshakeError);
    expect(worker.seen.filter((s) => s.op !== 'session')).toEqual([]);
    expect(client.signedOnly).toBe(false);
  });

  it('pins the key from SECRET_SVC_SERVICE_PUBLIC_KEY with fromEnv, and does not fall back without a session responder', async () => {
    const { worker, nc, credential, jwk } = setup({ sessions: false });
    const client = await SecretClient.fromEnv({ SECRET_SVC_SERVICE_PUBLIC_KEY: service.x }, { nc, credential, key: jwk, timeoutMs: 300 });
    const err = await client.read('app-1/A').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/^no worker is serving secret\.session /);
    expect(nc.subjects.every((s) => s === 'secret.session')).toBe(true);
    expect(worker.seen).toEqual([]);
  });

  it('refuses an unusable pinned key before connecting, naming where it came from', async () => {
    const { credential, jwk } = setup();
    const nowhere = { servers: 'nats://127.0.0.1:1', credential, key: jwk };
    await expect(SecretClient.fromEnv({ SECRET_SVC_SERVICE_PUBLIC_KEY: 'nope' }, nowhere)).rejects.toThrow(/^SECRET_SVC_SERVICE_PUBLIC_KEY: /);
    await expect(SecretClient.connect({ ...nowhere, servicePublicKey: 'nope' })).rejects.toThrow(/^servicePublicKey: /);
  });
});

describe('SecretClient: deadlines with sessions', () => {
  it('a handshake that never answers counts against the call deadline', async () => {
    const { worker, nc, connect } = setup();
    nc.silentSessions = true;
    const client = await connect({ timeoutMs: 300 });
    const started = Date.now();
    const err = await client.read('app-1/A').catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/^no reply on secret\.session after \d+ ms \(\d attempts?\)$/);
    const stated = Number(/after (\d+) ms/.exec((err as Error).message)?.[1]);
    expect(stated).toBeGreaterThanOrEqual(290);
    expect(stated).toBeLessThanOrEqual(waited);
    expect(worker.seen).toEqual([]);
  });

  it('a call waiting for a handshake another call started still ends at its own deadline', async () => {
    const { nc, connect } = setup();
    nc.silentSessions = true;
    const client = await connect();
    const settled: string[] = [];
    const long = client.read('app-1/LONG', { timeout: 1_200 }).catch(() => settled.push('long'));
    const short = client.read('app-1/SHORT', { timeout: 150 }).catch((e: unknown) => {
      settled.push('short');
      return e;
    });
    const err = await short;
    expect(settled).toEqual(['short']); // the shared handshake is still pending for the other call
    expect((err as Error).message).toMatch(/^no reply on secret\.session after \d+ ms/);
    await long;
  });

  it('an AbortSignal ends a call waiting for a handshake at once', async () => {
    const { nc, connect } = setup();
    nc.silentSessions = true;
    const client = await connect({ timeoutMs: 10_000 });
    const controller = new AbortController();
    const pending = client.read('app-1/A', { signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error('user gave up'));
    expect(((await pending) as Error).message).toBe('user gave up');
  });
});
