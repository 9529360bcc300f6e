/**
 * The store side of `keys status` / `keys rewrap` (PROTOCOL.md §13): counting stored values
 * per key id, and moving them to the first key without losing a concurrent write.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { keyIdOf } from '../../src/store/seal.js';
import { openStore } from '../../src/worker.js';
import { startStack, type Stack } from '../helpers/stack.js';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
let stack: Stack;
beforeAll(async () => { stack = await startStack({ key: oldKey.toString('base64') }); });
afterAll(async () => { await stack?.stop(); });

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
    const { store, redis } = await storeWith([newKey, oldKey]);
    try {
      const before = await store.countByKeyId();
      expect(before.get(keyIdOf(oldKey))).toBe(20 * 2 + 1);
      expect(before.get(keyIdOf(newKey)) ?? 0).toBe(0);
      // A write by the old-key worker races the rewrap of its key.
      const [tally] = await Promise.all([store.rewrap(keys, { canary: true }), c.update('rw-svc/K3', { value: 'concurrent' })]);
      expect(tally.failed).toBe(0);
      expect(tally.moved + tally.changed).toBe(21);
      // Whatever was skipped as changed moves on a second pass; the concurrent write stays.
      const again = await store.rewrap(keys, { canary: true });
      expect(again.failed + again.changed).toBe(0);
      const after = await store.countByKeyId();
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
