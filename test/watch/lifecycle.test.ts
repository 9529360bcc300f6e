/**
 * Held watches' lifecycle (docs/protocol.md §14) through real NATS and Redis: the per-caller
 * and per-worker limits (503 naming them), `reset` once the history no longer holds a change,
 * a revoked credential's held watches cut with 401, sealed session watches (no key name of
 * theirs crosses the bus outside the audit subjects), stopping a worker answers what it
 * holds, and the client's iterator resumes on another worker without losing a change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient } from '@secret-svc/client';
import { next } from './support.js';
import type { TestCaller } from '../helpers/identities.js';
import { spawnWorker } from '../helpers/process.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { call, expectError, expectOk, request, type RawReply } from '../helpers/wire.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: Stack;
let admin: SecretClient;
let adminCaller: TestCaller;

beforeAll(async () => {
  stack = await startStack({ extra: { SECRET_SVC_MAX_WATCHES_PER_CALLER: '2', SECRET_SVC_MAX_WATCHES: '4', SECRET_SVC_WATCH_HISTORY: '5' } });
  adminCaller = stack.issuer.caller('root', { admin: true });
  admin = await stack.client(adminCaller, 'json');
});
afterAll(async () => { await stack?.stop(); });

async function newest(): Promise<number> {
  return (expectOk(await call(stack.nc, stack.issuer.caller('probe'), request('watch', {}), 'json'), 'json') as { rev: number }).rev;
}

async function heldCount(n: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (stack.worker.watches.heldCount !== n && Date.now() < deadline) await sleep(5);
  expect(stack.worker.watches.heldCount).toBe(n);
}

describe('watch lifecycle', () => {
  it('a watch beyond the per-caller or per-worker limit gets 503 at once, naming the limit; one answered at once is not limited', async () => {
    const since = await newest();
    const svc = stack.issuer.caller('svc');
    const held = [1, 2].map(() => call(stack.nc, svc, request('watch', { since, wait: 3_000 }), 'json'));
    await heldCount(2);
    const refused = await call(stack.nc, svc, request('watch', { since, wait: 3_000 }), 'json');
    expectError(refused, 503, 'json');
    expect(refused.message).toContain('SECRET_SVC_MAX_WATCHES_PER_CALLER');
    // Answered at once (nothing held): not limited.
    expectOk(await call(stack.nc, svc, request('watch', { since, wait: 0 }), 'json'), 'json');
    const others = [stack.issuer.caller('a'), stack.issuer.caller('b')].map((c) => call(stack.nc, c, request('watch', { since, wait: 3_000 }), 'json'));
    await heldCount(4);
    const full = await call(stack.nc, stack.issuer.caller('c'), request('watch', { since, wait: 3_000 }), 'json');
    expectError(full, 503, 'json');
    expect(full.message).toContain('SECRET_SVC_MAX_WATCHES');
    for (const r of await Promise.all([...held, ...others])) expect(expectOk(r, 'json')).toMatchObject({ changes: [], reset: false });
  });

  it('reset once a change after since is no longer kept, or since is past the newest revision', async () => {
    const since = await newest();
    for (let i = 0; i < 8; i++) await admin.create(`hist/K${i}`, 'v');
    const top = await newest();
    const reset = expectOk(await call(stack.nc, adminCaller, request('watch', { since, wait: 10_000 }), 'json'), 'json');
    expect(reset).toEqual({ rev: top, changes: [], reset: true });
    // Kept: the last five.
    const kept = expectOk(await call(stack.nc, adminCaller, request('watch', { since: top - 5, wait: 0 }), 'json'), 'json') as { changes: unknown[]; reset: boolean };
    expect(kept.reset).toBe(false);
    expect(kept.changes).toHaveLength(5);
    expect(expectOk(await call(stack.nc, adminCaller, request('watch', { since: top + 10, wait: 10_000 }), 'json'), 'json')).toEqual({ rev: top, changes: [], reset: true });
    // The client yields the reset marker.
    const ac = new AbortController();
    const it = admin.watch({ prefix: 'hist/' }, { since, signal: ac.signal });
    expect(await next(it)).toEqual({ rev: top, changes: [], reset: true });
    ac.abort();
  });

  it('a revoked credential\'s held watch is answered 401 within a second of the revoke', async () => {
    const svc = stack.issuer.caller('revoked-svc');
    const since = await newest();
    const held = call(stack.nc, svc, request('watch', { since, wait: 20_000 }), 'json');
    await heldCount(1);
    await admin.revoke({ keyId: svc.key.x });
    const revokedAt = Date.now();
    const reply = await held;
    expect(Date.now() - revokedAt).toBeLessThan(1_500);
    expectError(reply, 401, 'json');
    expect(reply.message).toBe('credential has been revoked');
  });

  it('through a session the watch reply is sealed: no key name of its changes crosses the bus outside the audit subjects', async () => {
    const svc = stack.issuer.caller('sealed-svc');
    const client = await stack.client(svc, 'msgpack', { sessions: true });
    const seen: { subject: string; data: string }[] = [];
    const spy = stack.nc.subscribe('>', { callback: (_err, msg) => seen.push({ subject: msg.subject, data: Buffer.from(msg.data).toString('latin1') }) });
    const ac = new AbortController();
    const it = client.watch({ prefix: 'sealed-svc/' }, { signal: ac.signal });
    const batch = next(it);
    await heldCount(1);
    await client.create('sealed-svc/QUITE_SECRET_NAME', 'v');
    expect((await batch).changes).toMatchObject([{ key: 'sealed-svc/QUITE_SECRET_NAME', op: 'create', version: 1 }]);
    expect(client.signedOnly).toBe(false);
    ac.abort();
    await sleep(200);
    spy.unsubscribe();
    expect(seen.some((m) => m.subject === 'secret.watch')).toBe(true);
    expect(seen.some((m) => m.subject.startsWith('secret.internal.'))).toBe(true);
    const leaks = seen.filter((m) => !m.subject.startsWith('secret.audit.') && m.data.includes('QUITE_SECRET_NAME'));
    expect(leaks.map((m) => m.subject)).toEqual([]);
  });

  it('stopping a worker answers its held watches at once; the client resumes on another worker without losing a change', async () => {
    const svc = stack.issuer.caller('restart-svc');
    const client = await stack.client(svc, 'json', { sessions: false });
    const raw = call(stack.nc, svc, request('watch', { since: await newest(), wait: 30_000 }), 'json');
    const ac = new AbortController();
    const it = client.watch({ prefix: 'restart-svc/' }, { signal: ac.signal, waitMs: 30_000 });
    const first = next(it, 20_000);
    await heldCount(2);
    const stopping = Date.now();
    await stack.worker.stop();
    const answered: RawReply = await raw;
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(expectOk(answered, 'json')).toMatchObject({ changes: [], reset: false });
    // No worker now: the iterator backs off and retries. A new worker takes over; the write
    // lands whenever the iterator's next request is sent, before or after: it is not lost.
    const worker = await stack.addWorker();
    await client.create('restart-svc/AFTER', 'v');
    const batch = await first;
    expect(batch.changes).toMatchObject([{ key: 'restart-svc/AFTER', op: 'create', version: 1 }]);
    ac.abort();
    await worker.stop();
  });

  it('a worker process given SIGTERM answers its held watches at once, as if their wait ran out, and exits 0', async () => {
    await stack.worker.stop().catch(() => {}); // the process is the only worker (stopped already in a full run)
    const proc = await spawnWorker(stack.env, { timeoutMs: 30_000 });
    try {
      const svc = stack.issuer.caller('sigterm-svc');
      const since = await newest();
      const held = Array.from({ length: 2 }, () => call(stack.nc, svc, request('watch', { since, wait: 60_000 }), 'json'));
      // Held when a watch answered at once by the same single worker comes after them.
      await sleep(500);
      const signalled = Date.now();
      const exited = proc.stop('SIGTERM');
      for (const reply of await Promise.all(held)) expect(expectOk(reply, 'json')).toEqual({ rev: since, changes: [], reset: false });
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(await exited).toBe(0);
    } finally {
      await proc.stop('SIGKILL');
    }
  });
});
