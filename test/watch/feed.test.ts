/**
 * The change feed (docs/protocol.md §14) through real NATS and Redis and the real client:
 * two workers (a watch held on one is woken by a write on the other), access filtering,
 * the caller's point of view on a lost read right, consistency of a read after a notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient } from '@secret-svc/client';
import { next } from './support.js';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack, type TestWorker } from '../helpers/stack.js';
import { call, envelope, expectError, expectOk, request, send, type RawReply } from '../helpers/wire.js';

let stack: Stack;
let workers: TestWorker[];
let admin: SecretClient;
let svc: TestCaller;
let svcClient: SecretClient;

beforeAll(async () => {
  stack = await startStack();
  workers = [stack.worker, await stack.addWorker()];
  admin = await stack.client(stack.issuer.caller('root', { admin: true }), 'json');
  svc = stack.issuer.caller('svc');
  svcClient = await stack.client(svc, 'msgpack');
});
afterAll(async () => { await stack?.stop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watch', () => {
  it('without since answers at once with the newest revision; since then sees a create', async () => {
    const start = expectOk(await send(stack.nc, 'secret.watch', envelope(svc, request('watch', { prefix: 'svc/' }), 'json')), 'json') as { rev: number; changes: unknown[]; reset: boolean };
    expect(start.changes).toEqual([]);
    expect(start.reset).toBe(false);
    const created = await svcClient.create('svc/A', 'one');
    const reply = expectOk(await send(stack.nc, 'secret.watch', envelope(svc, request('watch', { prefix: 'svc/', since: start.rev }), 'json')), 'json') as { rev: number; changes: { key: string; op: string; version: number; rev: number }[] };
    expect(reply.changes).toHaveLength(1);
    expect(reply.changes[0]).toMatchObject({ key: 'svc/A', op: 'create', version: created.version, rev: start.rev + 1 });
    expect(reply.rev).toBeGreaterThanOrEqual(start.rev + 1);
  });

  it('a watch held on one worker is woken by a write that the other worker committed', async () => {
    let crossed = false;
    for (let attempt = 0; attempt < 20 && !crossed; attempt++) {
      const start = expectOk(await call(stack.nc, svc, request('watch', {}), 'json'), 'json') as { rev: number };
      const held = call(stack.nc, svc, request('watch', { prefix: 'svc/TW-', since: start.rev, wait: 10_000 }), 'json');
      while (!workers.some((w) => w.watches.heldCount > 0)) await sleep(5);
      const other = workers.find((w) => w.watches.heldCount === 0)!;
      const creates = () => other.service.stats.get('create')!.counters().num_requests;
      const before = creates();
      const created = await svcClient.create(`svc/TW-${attempt}`, 'x');
      crossed = creates() > before;
      const body = expectOk(await held, 'json') as { changes: { key: string; version: number }[] };
      expect(body.changes).toMatchObject([{ key: `svc/TW-${attempt}`, op: 'create', version: created.version }]);
    }
    expect(crossed).toBe(true);
  });

  it('client.watch yields changes; a read after a notice returns that version or a later one; abort ends it', async () => {
    const ac = new AbortController();
    const it = svcClient.watch({ keys: ['svc/B'] }, { signal: ac.signal, waitMs: 30_000 });
    const pending = next(it);
    await sleep(300); // let the watch be held
    await svcClient.create('svc/B', 'b1');
    const batch = await pending;
    expect(batch.changes.map((c) => [c.key, c.op, c.version])).toEqual([['svc/B', 'create', 1]]);
    for (let i = 2; i <= 4; i++) {
      const notice = next(it);
      await svcClient.update('svc/B', { value: `b${i}` });
      const change = (await notice).changes.at(-1)!;
      expect(change.version).toBe(i);
      // Any worker: the client's reads spread over the queue group.
      expect((await svcClient.read('svc/B')).version).toBeGreaterThanOrEqual(change.version!);
    }
    ac.abort();
    expect((await it.next()).done).toBe(true);
  });

  it('a non-reader\'s watch is not answered early by a change it cannot read, and never learns the key', async () => {
    const other = stack.issuer.caller('other');
    const start = expectOk(await call(stack.nc, other, request('watch', {}), 'json'), 'json') as { rev: number };
    const began = Date.now();
    const held = call(stack.nc, other, request('watch', { since: start.rev, wait: 1500 }), 'json');
    await sleep(200);
    await svcClient.create('svc/HIDDEN_NAME', 'x');
    const reply = await held;
    expect(Date.now() - began).toBeGreaterThanOrEqual(1400);
    const body = expectOk(reply, 'json') as { rev: number; changes: unknown[]; reset: boolean };
    expect(body).toMatchObject({ changes: [], reset: false });
    expect(body.rev).toBeGreaterThan(start.rev); // rev advances over it like over any other
    expect(Buffer.from(reply.data).toString('latin1')).not.toContain('HIDDEN_NAME');
  });

  it('a reader removed from the lists sees op "delete" (no version); an administrator sees "update"', async () => {
    const other = stack.issuer.caller('other');
    await admin.create('shared/C', 'c', { readers: ['svc', 'other'] });
    const start = expectOk(await call(stack.nc, other, request('watch', { keys: ['shared/C'] }), 'json'), 'json') as { rev: number };
    const held = call(stack.nc, other, request('watch', { keys: ['shared/C'], since: start.rev, wait: 10_000 }), 'json');
    const adminHeld = admin.watch({ prefix: 'shared/' }, { since: start.rev });
    await sleep(200);
    const updated = await admin.update('shared/C', { readers: ['svc'] });
    const body = expectOk(await held, 'json') as { changes: Record<string, unknown>[] };
    expect(body.changes).toHaveLength(1);
    expect(body.changes[0]).toMatchObject({ key: 'shared/C', op: 'delete' });
    expect(body.changes[0]).not.toHaveProperty('version');
    expect((await next(adminHeld)).changes).toMatchObject([{ key: 'shared/C', op: 'update', version: updated.version }]);
    await adminHeld.return?.();
    // A delete is "delete" to a reader, and not reported to one that could not read it.
    const svcStart = expectOk(await call(stack.nc, svc, request('watch', {}), 'json'), 'json') as { rev: number };
    await admin.delete('shared/C');
    const after = expectOk(await call(stack.nc, svc, request('watch', { prefix: 'shared/', since: svcStart.rev }), 'json'), 'json') as { changes: Record<string, unknown>[] };
    expect(after.changes).toMatchObject([{ key: 'shared/C', op: 'delete' }]);
  });

  it('more than 1000 qualifying changes come in pages: rev of the last one returned, then the rest', async () => {
    const start = expectOk(await call(stack.nc, svc, request('watch', {}), 'json'), 'json') as { rev: number };
    const keys = Array.from({ length: 1010 }, (_, i) => `svc/page/K${i}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => svcClient.create(k, 'v')));
    const first = expectOk(await call(stack.nc, svc, request('watch', { prefix: 'svc/page/', since: start.rev }), 'json'), 'json') as { rev: number; changes: { rev: number; key: string }[] };
    expect(first.changes).toHaveLength(1000);
    expect(first.rev).toBe(first.changes[999]!.rev);
    const revs = first.changes.map((c) => c.rev);
    expect(revs).toEqual([...revs].sort((a, b) => a - b));
    const second = expectOk(await call(stack.nc, svc, request('watch', { prefix: 'svc/page/', since: first.rev }), 'json'), 'json') as { rev: number; changes: { key: string }[] };
    expect(second.changes).toHaveLength(10);
    expect(new Set([...first.changes, ...second.changes].map((c) => c.key))).toEqual(new Set(keys));
  });

  it('bad input is 400: prefix with keys, over 100 or duplicate keys, wait out of range or not an integer, negative since', async () => {
    const bad: object[] = [
      { prefix: 'svc/', keys: ['svc/A'] },
      { keys: Array.from({ length: 101 }, (_, i) => `svc/K${i}`) },
      { keys: ['svc/A', 'svc/A'] },
      { keys: [] },
      { since: 1, wait: 60_001 },
      { since: 1, wait: -1 },
      { since: 1, wait: 1.5 },
      { since: -1 },
      { since: 0.5 },
      { since: '3' },
      { prefix: 'svc/', extra: true },
    ];
    for (const fields of bad) expectError(await call(stack.nc, svc, request('watch', fields), 'json'), 400, 'json');
  });

  it('an edited change entry is dropped, never reported; the next change still is', async () => {
    const redis = stack.redisClient();
    const log = 'secret-svc:{s}:ch:log';
    const start = expectOk(await call(stack.nc, svc, request('watch', {}), 'json'), 'json') as { rev: number };
    await svcClient.create('svc/EDIT_ME', 'x');
    const rev = start.rev + 1;
    const [id, fields] = ((await redis.xrange(log, `${rev}-0`, `${rev}-0`)) as [string, string[]][])[0]!;
    expect(fields[1]).toContain('svc/EDIT_ME');
    // Rewrite the newest entry in place: remove it, step the stream's last ID back, add the edited one.
    await redis.xdel(log, id);
    await redis.call('XSETID', log, `${rev - 1}-0`);
    await redis.xadd(log, `${rev}-0`, 'e', fields[1]!.replace('svc/EDIT_ME', 'svc/EDITED!'));
    const reply = expectOk(await call(stack.nc, svc, request('watch', { since: start.rev, wait: 0 }), 'json'), 'json') as { changes: { key: string }[]; rev: number };
    expect(reply.changes).toEqual([]);
    expect(reply.rev).toBe(rev);
    await svcClient.create('svc/AFTER_EDIT', 'y');
    const after = expectOk(await call(stack.nc, svc, request('watch', { since: start.rev }), 'json'), 'json') as { changes: { key: string }[] };
    expect(after.changes.map((c) => c.key)).toEqual(['svc/AFTER_EDIT']);
  });

  it('a revision counter that went back (lost alone) does not fail writes: the log carries on after its last entry', async () => {
    const redis = stack.redisClient();
    const start = expectOk(await call(stack.nc, svc, request('watch', {}), 'json'), 'json') as { rev: number };
    await redis.set('secret-svc:{s}:ch:rev', '1');
    const created = await svcClient.create('svc/AFTER_LOSS', 'z');
    expect(created.version).toBe(1);
    const reply = expectOk(await call(stack.nc, svc, request('watch', { since: start.rev, wait: 0 }), 'json'), 'json') as { changes: { key: string; rev: number }[] };
    expect(reply.changes).toMatchObject([{ key: 'svc/AFTER_LOSS', rev: start.rev + 1 }]);
  });

  it('one audit event per answered watch, with what was asked and count; never answered twice for one nonce', async () => {
    const events: Record<string, unknown>[] = [];
    const sub = stack.nc.subscribe('secret.audit.watch', { callback: (_err, msg) => events.push(JSON.parse(new TextDecoder().decode(msg.data))) });
    const start = expectOk(await call(stack.nc, svc, request('watch', {}), 'json'), 'json') as { rev: number };
    await svcClient.create('svc/AUDITED', 'x');
    const req = request('watch', { prefix: 'svc/AUD', since: start.rev, wait: 0 });
    expectOk(await call(stack.nc, svc, req, 'msgpack'), 'msgpack');
    expectError(await call(stack.nc, svc, req, 'msgpack'), 401, 'msgpack');
    // The replayed nonce's 401 came after the credential verified: it is folded (§15), with
    // who and a count but not what was asked.
    const refused = (e: Record<string, unknown>) => e.status === 401 && e.slug === 'svc';
    const deadline = Date.now() + 5_000;
    while (!(events.some((e) => e.prefix === 'svc/AUD') && events.some(refused)) && Date.now() < deadline) await sleep(20);
    sub.unsubscribe();
    const mine = events.filter((e) => e.prefix === 'svc/AUD');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ op: 'watch', slug: 'svc', status: 200, count: 1 });
    expect(events.filter(refused)).toMatchObject([{ op: 'watch', code: 'unauthenticated', count: 1 }]);
    expect(events.find((e) => e.status === 200 && e.prefix === undefined && e.slug === 'svc')).toMatchObject({ count: 0 });
  });
});
