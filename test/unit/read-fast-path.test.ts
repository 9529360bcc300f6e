import { describe, expect, it } from 'vitest';
import { requestSchemas } from '@secret-svc/protocol';
import { fastRead } from '../../src/auth/read-fast-path.js';

// The precompiled read check may only accept what zod (the reference) accepts, giving the same
// object; it must accept the ordinary shapes (else it buys nothing); anything else goes to zod.
const base = { op: 'read', aud: 'secret-svc', ts: 1_700_000_000_000, nonce: 'AAAAAAAAAAAAAAAAAAAAAAAA' };
const keys20 = Array.from({ length: 20 }, (_, i) => `team/K_${i}`);

const ordinary: object[] = [
  { ...base, key: 'team/API_KEY' },
  { ...base, key: 'a', version: 3 },
  { ...base, keys: ['team/a'] },
  { ...base, keys: keys20 },
  { ...base, keys: Array.from({ length: 100 }, (_, i) => `k${i}`) },
  { ...base, aud: 'x'.repeat(256), key: 'team/x.y-z_1' },
  { ...base, ts: -5, key: 'k' },
  Object.assign(Object.create(null) as object, { ...base, key: 'k' }),
];

const odd: unknown[] = [
  null, undefined, 'read', 42, [], [base], new Map(Object.entries({ ...base, key: 'k' })),
  base,
  { ...base, key: 'k', keys: ['k'] },
  { ...base, keys: ['k'], version: 1 },
  { ...base, key: 'k', version: 0 },
  { ...base, key: 'k', version: 1.5 },
  { ...base, key: 'k', version: '1' },
  { ...base, key: 'k', version: null },
  { ...base, key: 'k', version: undefined },
  { ...base, key: undefined, keys: ['k'] },
  { ...base, key: null },
  { ...base, key: '' },
  { ...base, key: 'a//b' },
  { ...base, key: '../x' },
  { ...base, key: 'x'.repeat(257) },
  { ...base, key: 7 },
  { ...base, keys: [] },
  { ...base, keys: ['a', 'a'] },
  { ...base, keys: ['a', 7] },
  { ...base, keys: 'a' },
  { ...base, keys: Array.from({ length: 101 }, (_, i) => `k${i}`) },
  { ...base, keys: ['ok', 'bad key'] },
  { ...base, op: 'list', key: 'k' },
  { ...base, op: undefined, key: 'k' },
  { ...base, aud: 'x'.repeat(257), key: 'k' },
  { ...base, aud: 5, key: 'k' },
  { ...base, ts: 1.5, key: 'k' },
  { ...base, ts: Number.MAX_SAFE_INTEGER + 2, key: 'k' },
  { ...base, ts: '1', key: 'k' },
  { ...base, nonce: 'short', key: 'k' },
  { ...base, nonce: 'A'.repeat(65), key: 'k' },
  { ...base, nonce: `${'A'.repeat(20)}+`, key: 'k' },
  { ...base, key: 'k', extra: 1 },
  { ...base, key: 'k', cred: 'x' },
  { aud: base.aud, ts: base.ts, nonce: base.nonce, key: 'k' },
  Object.assign(Object.create({ inherited: 1 }) as object, { ...base, key: 'k' }),
  Object.assign(Object.create({ key: 'k' }) as object, base),
];

describe('the precompiled read check agrees with the zod schema', () => {
  it('accepts the ordinary read shapes, with exactly zod\'s result', () => {
    for (const value of ordinary) {
      const zod = requestSchemas.read.safeParse(value);
      expect(zod.success).toBe(true);
      expect(fastRead(value)).toStrictEqual(zod.data);
    }
  });

  it('never accepts what zod refuses, and what it accepts zod accepts the same', () => {
    for (const value of odd) {
      const zod = requestSchemas.read.safeParse(value);
      const fast = fastRead(value);
      if (fast !== undefined) {
        expect(zod.success).toBe(true);
        expect(fast).toStrictEqual(zod.data);
      }
      if (!zod.success) expect(fast).toBeUndefined();
    }
  });

  it('returns its own copy of the keys (later changes to the decoded value do not reach it)', () => {
    const keys = ['a', 'b'];
    const parsed = fastRead({ ...base, keys });
    keys.push('c');
    expect(parsed?.keys).toEqual(['a', 'b']);
  });
});
