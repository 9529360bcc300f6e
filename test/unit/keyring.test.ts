/** The keyring (docs/protocol.md §13): the first key seals, every key opens, ids as §13 defines them. */
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IntegrityError, keyIdOf, Sealer } from '../../src/store/seal.js';

const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];

describe('keyring', () => {
  it('key id = first 8 hex digits of HMAC-SHA256(key, "secret-svc key id")', () => {
    expect(keyIdOf(oldKey)).toBe(createHmac('sha256', oldKey).update('secret-svc key id').digest('hex').slice(0, 8));
  });

  it('the first key seals; every key opens; a value names its key', () => {
    const before = new Sealer([oldKey]);
    const ring = new Sealer([newKey, oldKey]);
    const old = before.seal('b', 'old value');
    expect(ring.open('b', old)).toBe('old value');
    const sealed = ring.seal('b', 'new value');
    expect(Sealer.sealingKeyIdOf(sealed)).toBe(keyIdOf(newKey));
    expect(ring.isCurrent(sealed)).toBe(true);
    expect(ring.isCurrent(old)).toBe(false);
    expect(() => before.open('b', sealed)).toThrow(IntegrityError);
    expect(new Sealer([newKey]).open('b', sealed)).toBe('new value');
  });

  it('refuses a duplicate key', () => {
    expect(() => new Sealer([oldKey, Buffer.from(oldKey)])).toThrow(/twice/);
  });
});

describe('subkey cache', () => {
  it('is bounded by bytes, whatever the bindings (long ones keyed by a digest)', () => {
    const ring = new Sealer([newKey]);
    const long = 'x'.repeat(19_000);
    for (let i = 0; i < 40_000; i++) ring.seal(`${long}${i}`, 'v');
    expect(ring.subkeyCacheBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(ring.subkeyCacheBytes).toBeGreaterThan(0);
  });
});
