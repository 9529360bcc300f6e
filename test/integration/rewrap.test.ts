/**
 * The store side of `keys status` / `keys rewrap` (docs/protocol.md §13): counting stored values
 * per key id, and moving them to the first key without losing a concurrent write.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { keyIdOf } from '../../src/store/seal.js';
import { openStore } from '../../src/worker.js';
import { rewrapAll } from '../../src/cli/commands/keys/rewrap.js';
import { startStack, type Stack, type TestWorker } from '../helpers/stack.js';
import { startTestWorker } from '../helpers/worker.js';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const midKey = randomBytes(32);
let stack: Stack;
let both: TestWorker | undefined;
beforeAll(async () => { stack = await startStack({ key: oldKey.toString('base64') }); });
afterAll(async () => {
  await both?.stop();
  await stack?.stop();
});

/** Workers change rings before a rewrap (§13): the stack's [old] worker gives way to one on [new, old]. */
async function serveOnNewAndOld(): Promise<void> {
  await stack.worker.stop();
  both = await startTestWorker({ ...stack.env, SECRET_SVC_ENCRYPTION_KEY: '', SECRET_SVC_ENCRYPTION_KEYS: `${newKey.toString('base64')},${oldKey.toString('base64')}` });
}

async function storeWith(keys: Buffer[]) {
  const config = { ...loadConfig(stack.env), encryptionKeys: keys.map((k) => new Uint8Array(k)) };
  return openStore(config, createLogger('silent'));
}

describe('rewrap', () => {
  it('counts per key id, moves every version and the canary, and never loses a concurrent write', async () => {
    const c = await stack.client(stack.issuer.caller('rw-svc'), 'msgpack');
    const keys = Array.from({ length: 20 }, (_, i) => `rw-svc/K${i}`);
    for (const k of keys) {
      await c.create(k, `${k}-1`);
      await c.update(k, { value: `${k}-2` });
    }
    await serveOnNewAndOld();
    const { store, redis } = await storeWith([newKey, oldKey]);
    try {
      const before = await store.keyring.countByKeyId();
      expect(before.get(keyIdOf(oldKey))).toBe(20 * 2 + 1);
      expect(before.get(keyIdOf(newKey)) ?? 0).toBe(0);
      // A write by a [new, old] worker races the rewrap of its key.
      const [tally] = await Promise.all([store.keyring.rewrap(keys, { canary: true }), c.update('rw-svc/K3', { value: 'concurrent' })]);
      expect(tally.failed).toBe(0);
      expect(tally.moved + tally.changed).toBe(21);
      // Whatever was skipped as changed moves on a second pass; the concurrent write stays.
      const again = await store.keyring.rewrap(keys, { canary: true });
      expect(again.failed + again.changed).toBe(0);
      const after = await store.keyring.countByKeyId();
      expect(after.get(keyIdOf(oldKey)) ?? 0).toBe(0);
      expect(after.get(keyIdOf(newKey))).toBe(20 * 2 + 1 + 1);
    } finally {
      redis.disconnect();
    }
    // A store on the new key alone opens everything, old versions included.
    const { store: fresh, redis: r2, canary } = await storeWith([newKey]);
    try {
      expect(canary).toBe('verified');
      expect(fresh.keyIds).toEqual([keyIdOf(newKey)]);
      const nonce = { callerKeyId: 'test', nonce: randomBytes(12).toString('hex'), ttlMs: 60_000, digest: '' };
      const { old } = await fresh.read(nonce, { slug: 'rw-svc', admin: false }, ['rw-svc/K3'], { budgetBytes: 0, version: 2 });
      const { records } = await fresh.read({ ...nonce, nonce: `${nonce.nonce}x` }, { slug: 'rw-svc', admin: false }, ['rw-svc/K3'], { budgetBytes: 0 });
      expect(fresh.open(records[0]!.sealed!)).toBe('concurrent');
      expect(fresh.open(old!.sealed)).toBe('rw-svc/K3-2');
    } finally {
      r2.disconnect();
    }
  });
});

describe('rewrapAll (keys rewrap)', () => {
  const noBar = () => ({ tick() {}, stop() {} });

  it('retries a record written between its read and its move, keeping that write', async () => {
    const c = await stack.client(stack.issuer.caller('rw2-svc'), 'msgpack');
    const keys = Array.from({ length: 7 }, (_, i) => `rw2-svc/K${i}`);
    for (const k of keys) await c.create(k, `${k}-1`);
    const { store, redis } = await storeWith([midKey, newKey, oldKey]);
    try {
      // The first read of K2's record is followed by an update before the move is tried.
      const read = redis.hgetallBuffer.bind(redis);
      let raced = false;
      (redis as unknown as { hgetallBuffer: typeof read }).hgetallBuffer = (async (hash: string) => {
        const fields = await read(hash);
        if (!raced && hash.endsWith('rw2-svc/K2')) {
          raced = true;
          await c.update('rw2-svc/K2', { value: 'written meanwhile' });
        }
        return fields;
      }) as typeof read;
      const s = await rewrapAll(store, { batch: 3, progress: noBar });
      expect(raced).toBe(true);
      expect(s.retried).toBe(1);
      expect(s.passes).toBe(2);
      expect(s.changed + s.failed).toBe(0);
      expect(s.left.size).toBe(0);
      const nonce = { callerKeyId: 'test', nonce: randomBytes(12).toString('hex'), ttlMs: 60_000, digest: '' };
      const { records } = await store.read(nonce, { slug: 'rw2-svc', admin: false }, ['rw2-svc/K2'], { budgetBytes: 0 });
      expect(store.open(records[0]!.sealed!)).toBe('written meanwhile');
      const again = await rewrapAll(store, { batch: 3, progress: noBar });
      expect(again.moved).toBe(0);
      expect(again.left.size).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('stops between batches when asked (Ctrl-C), and a later run finishes the job', async () => {
    const extra = randomBytes(32);
    const { store, redis } = await storeWith([extra, midKey, newKey, oldKey]);
    try {
      let batches = 0;
      const first = await rewrapAll(store, { batch: 2, progress: noBar, stopped: () => batches++ >= 1 });
      expect(first.interrupted).toBe(true);
      expect((await store.keyring.countByKeyId()).size).toBeGreaterThan(1); // part moved, part not: both open
      const rest = await rewrapAll(store, { batch: 2, progress: noBar });
      expect(rest.interrupted).toBe(false);
      expect(rest.left.size).toBe(0);
      expect([...(await store.keyring.countByKeyId()).keys()]).toEqual([keyIdOf(extra)]);
    } finally {
      redis.disconnect();
    }
  });
});
