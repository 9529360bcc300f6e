/**
 * client.cache (docs/protocol.md §14 on the caller's side) through real NATS and Redis: a
 * read-through cache kept fresh by one watch; a change drops the value before `change`
 * reports it, so the next get reads the new value; with staleIfErrorMs the last value is
 * served while no worker answers, and a `stale` event says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient, WatchChange } from '@secret-svc/client';
import { startStack, type Stack } from '../helpers/stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: Stack;
let client: SecretClient;

beforeAll(async () => {
  stack = await startStack();
  client = await stack.client(stack.issuer.caller('cache-svc'), 'msgpack');
});
afterAll(async () => { await stack?.stop(); });

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('client.cache', () => {
  it('reads through once, then answers from memory; a write drops the value before its change event, and get serves the new one', async () => {
    await client.create('cache-svc/DB', 'one');
    const cache = client.cache({ prefix: 'cache-svc/' });
    await until(() => cache.stats().rev !== undefined);
    expect((await cache.get('cache-svc/DB')).value).toBe('one');
    expect((await cache.get('cache-svc/DB')).value).toBe('one');
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
    const seen: { change: WatchChange; heldThen: number }[] = [];
    cache.on('change', (change: WatchChange) => seen.push({ change, heldThen: cache.stats().entries }));
    const updated = await client.update('cache-svc/DB', { value: 'two' });
    await until(() => seen.length > 0);
    expect(seen[0]!.change).toMatchObject({ key: 'cache-svc/DB', op: 'update', version: updated.version });
    expect(seen[0]!.heldThen).toBe(0); // dropped before it was reported
    expect((await cache.get('cache-svc/DB')).value).toBe('two');
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, rev: seen[0]!.change.rev });
    expect((await cache.get('cache-svc/DB')).value).toBe('two');
    expect(cache.stats().hits).toBe(2);
    await cache.close();
    expect(cache.stats().entries).toBe(0);
  });

  it('bounded by bytes: the least recently used value goes first', async () => {
    await client.create('cache-svc/BIG1', 'x'.repeat(3000));
    await client.create('cache-svc/BIG2', 'y'.repeat(3000));
    const cache = client.cache({ keys: ['cache-svc/BIG1', 'cache-svc/BIG2'] }, { maxBytes: 4000 });
    await until(() => cache.stats().rev !== undefined);
    await cache.get('cache-svc/BIG1');
    await cache.get('cache-svc/BIG2');
    expect(cache.stats().entries).toBe(1);
    expect(cache.stats().bytes).toBeLessThanOrEqual(4000);
    await cache.get('cache-svc/BIG2');
    expect(cache.stats().hits).toBe(1);
    await cache.close();
  });

  it('with staleIfErrorMs the last value is served while no worker answers, and a stale event says so', async () => {
    await client.create('cache-svc/STALE', 'kept');
    const cache = client.cache({ keys: ['cache-svc/STALE'] }, { staleIfErrorMs: 60_000 });
    const stale: { key: string; ageMs: number }[] = [];
    cache.on('stale', (e: { key: string; ageMs: number }) => stale.push(e));
    await until(() => cache.stats().rev !== undefined);
    expect((await cache.get('cache-svc/STALE')).value).toBe('kept');
    await stack.worker.stop();
    await sleep(500); // the watch finds no worker and backs off
    expect((await cache.get('cache-svc/STALE')).value).toBe('kept');
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ key: 'cache-svc/STALE' });
    // Without the option, an unreachable service is an error.
    const strict = client.cache({ keys: ['cache-svc/STALE'] });
    await expect(strict.get('cache-svc/STALE')).rejects.toMatchObject({ status: 503 });
    await Promise.all([cache.close(), strict.close()]);
  });
});
