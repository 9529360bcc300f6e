/**
 * Atomic writes under concurrency (docs/protocol.md §4): one create wins, one update per
 * ifVersion wins, and updates without ifVersion are never lost. Two workers share the load
 * so the races cross processes' connections too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { ENCODINGS, envelope, expectError, expectOk, request, send, statusOf, type RawReply } from '../helpers/wire.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  await stack.addWorker();
});
afterAll(async () => { await stack?.stop(); });

/** Signs every request first, then sends them all at once. */
async function burst(caller: TestCaller, reqs: Record<string, unknown>[], encoding: 'json' | 'msgpack'): Promise<RawReply[]> {
  const bodies = reqs.map((r) => envelope(caller, r, encoding));
  return Promise.all(bodies.map((b, i) => send(stack.nc, `secret.${String(reqs[i]!.op)}`, b, 20_000)));
}

const countBy = (replies: RawReply[]) => {
  const counts: Record<number, number> = {};
  for (const r of replies) counts[statusOf(r)] = (counts[statusOf(r)] ?? 0) + 1;
  return counts;
};

describe.each(ENCODINGS)('concurrent writes (%s)', (encoding) => {
  const slug = `cc-${encoding}`;
  let me: TestCaller;
  beforeAll(() => { me = stack.issuer.caller(slug); });

  const readBack = async (key: string) => expectOk(await send(stack.nc, 'secret.read', envelope(me, request('read', { key }), encoding)), encoding);

  it('50 creates of one key: exactly 1 success and 49 × 409', async () => {
    const key = `${slug}/race`;
    const replies = await burst(me, Array.from({ length: 50 }, (_, i) => request('create', { key, value: `value-${i}` })), encoding);
    expect(countBy(replies)).toEqual({ 200: 1, 409: 49 });
    for (const r of replies) if (statusOf(r) === 409) expectError(r, 409, encoding);
    const winner = replies.findIndex((r) => statusOf(r) === 200);
    expect(await readBack(key)).toMatchObject({ version: 1, value: `value-${winner}` });
  });

  it('50 updates with the same ifVersion: exactly one success, the rest 409', async () => {
    const key = `${slug}/if`;
    await burst(me, [request('create', { key, value: 'start' })], encoding);
    const replies = await burst(me, Array.from({ length: 50 }, (_, i) => request('update', { key, value: `u-${i}`, ifVersion: 1 })), encoding);
    expect(countBy(replies)).toEqual({ 200: 1, 409: 49 });
    const winner = replies.findIndex((r) => statusOf(r) === 200);
    expect(replies[winner]!.body).toMatchObject({ key, version: 2 });
    expect(await readBack(key)).toMatchObject({ version: 2, value: `u-${winner}` });
  });

  it('100 updates without ifVersion: all succeed, final version = 1 + 100, each version once', async () => {
    const key = `${slug}/free`;
    await burst(me, [request('create', { key, value: 'start' })], encoding);
    const replies = await burst(me, Array.from({ length: 100 }, (_, i) => request('update', { key, value: `f-${i}` })), encoding);
    expect(countBy(replies)).toEqual({ 200: 100 });
    const versions = replies.map((r) => (r.body as { version: number }).version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    const last = replies.findIndex((r) => (r.body as { version: number }).version === 101);
    expect(await readBack(key)).toMatchObject({ version: 101, value: `f-${last}` });
  });

  it('concurrent list changes and value changes are all applied (none lost)', async () => {
    const key = `${slug}/mixed`;
    await burst(me, [request('create', { key, value: 'start' })], encoding);
    const reqs = Array.from({ length: 40 }, (_, i) => (i % 2 === 0
      ? request('update', { key, value: `m-${i}` })
      : request('update', { key, readers: [slug, `reader-${i}`] })));
    const replies = await burst(me, reqs, encoding);
    expect(countBy(replies)).toEqual({ 200: 40 });
    const final = await readBack(key);
    expect(final.version).toBe(41);
    // The reply with the highest version describes the final state exactly.
    const lastReply = replies.map((r) => r.body as Record<string, unknown>).find((b) => b.version === 41)!;
    expect(final).toMatchObject({ readers: lastReply.readers, writers: lastReply.writers });
  });
});

describe('lost update across workers (issue 9, item 1)', () => {
  it('200 rounds of a value update racing a lists-only update: the new value is never reverted', { timeout: 120_000 }, async () => {
    const admin = stack.issuer.caller('lu-admin', { admin: true });
    const writer = stack.issuer.caller('lu-svc');
    const key = 'lu-svc/ROTATED';
    await send(stack.nc, 'secret.create', envelope(writer, request('create', { key, value: 'rotated-0' }), 'msgpack'));
    for (let i = 1; i <= 200; i++) {
      const bodies = [
        envelope(admin, request('update', { key, value: `rotated-${i}` }), 'msgpack'),
        envelope(writer, request('update', { key, readers: ['lu-svc', `r-${i % 7}`] }), 'msgpack'),
      ];
      const replies = await Promise.all(bodies.map((b) => send(stack.nc, 'secret.update', b, 20_000)));
      for (const r of replies) expect(statusOf(r)).toBe(200);
      const read = expectOk(await send(stack.nc, 'secret.read', envelope(writer, request('read', { key }), 'msgpack')), 'msgpack');
      expect(read.value, `round ${i}`).toBe(`rotated-${i}`);
      expect(read.version).toBe(1 + 2 * i);
    }
  });
});
