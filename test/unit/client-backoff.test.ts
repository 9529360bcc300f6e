/**
 * The client's answer to a busy worker (503, docs/protocol.md §5): it backs off for real —
 * growing waits with a random half — and retries within its deadline, then gives the 503;
 * a write is resent as the identical bytes.
 */
import { describe, expect, it } from 'vitest';
import { encodeBody, UnavailableError } from '@secret-svc/protocol';
import { SecretClient, type NatsRequester, type ReplyMsg } from '@secret-svc/client';
import { TestIssuer } from '../helpers/identities.js';

/** A connection whose worker answers 503 to the first `busy` requests, then a fixed success. */
class BusyWorker implements NatsRequester {
  readonly sent: { atMs: number; body: Uint8Array }[] = [];
  constructor(private busy: number, private readonly ok: object) {}

  async request(_subject: string, payload: Uint8Array): Promise<ReplyMsg> {
    this.sent.push({ atMs: performance.now(), body: payload });
    if (this.busy-- > 0) {
      return { data: encodeBody({ error: { status: 503, code: 'unavailable', message: 'too many reply bytes in flight for this credential key (1048576), retry' } }, 'json') };
    }
    return { data: encodeBody(this.ok, 'json') };
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  async closed(): Promise<void> {}
  isClosed(): boolean {
    return false;
  }

  gaps(): number[] {
    return this.sent.slice(1).map((s, i) => s.atMs - this.sent[i]!.atMs);
  }
}

function connect(nc: BusyWorker, o: { timeoutMs: number; retries: number; retryDelayMs: number }) {
  const { credential, key } = new TestIssuer().caller('svc');
  return SecretClient.connect({ nc, credential, key, encoding: 'json', sessions: false, ...o });
}

const SECRET = { key: 'svc/K', value: 'v', version: 1, readers: ['svc'], writers: ['svc'], deleters: ['svc'], createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', createdBy: 'svc', updatedBy: 'svc' };

describe('retries of 503', () => {
  it('waits longer each time (at least half of 50, 100, 200 ms), then succeeds', async () => {
    const nc = new BusyWorker(3, SECRET);
    const c = await connect(nc, { timeoutMs: 5000, retries: 5, retryDelayMs: 50 });
    expect((await c.read('svc/K')).value).toBe('v');
    const gaps = nc.gaps();
    expect(gaps).toHaveLength(3);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual((50 * 2 ** i) / 2 - 2));
    // Each read attempt has its own nonce, so its own bytes.
    expect(new Set(nc.sent.map((s) => Buffer.from(s.body).toString('base64'))).size).toBe(4);
  });

  it('gives the 503 once the deadline is spent, never waiting past it', async () => {
    const nc = new BusyWorker(Infinity, SECRET);
    const c = await connect(nc, { timeoutMs: 400, retries: 50, retryDelayMs: 100 });
    const started = performance.now();
    const err = await c.read('svc/K').catch((e: unknown) => e);
    const took = performance.now() - started;
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('too many reply bytes in flight');
    expect(took).toBeLessThan(400 + 200); // the deadline, and scheduling slack
    expect(nc.sent.length).toBeGreaterThanOrEqual(3);
    expect(nc.sent.length).toBeLessThan(50); // it backed off instead of hammering
  });

  it('resends a write as the identical envelope', async () => {
    const { value: _value, ...metadata } = SECRET;
    const nc = new BusyWorker(2, metadata);
    const c = await connect(nc, { timeoutMs: 5000, retries: 3, retryDelayMs: 20 });
    expect(await c.create('svc/K', 'v')).toMatchObject({ version: 1 });
    expect(nc.sent).toHaveLength(3);
    expect(new Set(nc.sent.map((s) => Buffer.from(s.body).toString('base64'))).size).toBe(1);
  });
});
