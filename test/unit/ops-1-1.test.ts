/** The 1.1 request schemas (docs/protocol.md §10, §12): revocation selectors and their checks; the session op. */
import { describe, expect, it } from 'vitest';
import {
  describeIssue, generateJwk, isOp, requestSchemas, selectorOf, WRITE_OPS,
} from '@secret-svc/protocol/internal';

const head = { aud: 'secret-svc', ts: 1764000000000, nonce: 'AAAAAAAAAAAAAAAAAAAAAA' };
const KEY = generateJwk().x;

describe('1.1 ops', () => {
  it('session is served and is not resent like a write', () => {
    expect(isOp('session')).toBe(true);
    expect(WRITE_OPS.has('session')).toBe(false);
  });

  it('revocation is served: revoke and unrevoke are resent like writes, revocations is not', () => {
    for (const op of ['revoke', 'unrevoke', 'revocations']) expect(isOp(op)).toBe(true);
    expect([...WRITE_OPS].filter((op) => op.includes('revoke')).sort()).toEqual(['revoke', 'unrevoke']);
  });
});

describe.each(['revoke', 'unrevoke'] as const)('%s selector', (op) => {
  const parse = (fields: Record<string, unknown>) => requestSchemas[op].safeParse({ op, ...head, ...fields });

  it.each<[string, Record<string, unknown>, boolean]>([
    ['keyId', { keyId: KEY }, true],
    ['jti', { jti: 'j-1' }, true],
    ['jti of 128 chars', { jti: 'j'.repeat(128) }, true],
    ['slug and issuedBefore', { slug: 'deploy-svc', issuedBefore: 1764000000 }, true],
    ['issuedBefore 0', { slug: 'deploy-svc', issuedBefore: 0 }, true],
    ['none', {}, false],
    ['keyId and jti', { keyId: KEY, jti: 'j' }, false],
    ['jti and slug form', { jti: 'j', slug: 'a', issuedBefore: 1 }, false],
    ['keyId and slug form', { keyId: KEY, slug: 'a', issuedBefore: 1 }, false],
    ['slug without issuedBefore', { slug: 'deploy-svc' }, false],
    ['issuedBefore without slug', { issuedBefore: 5 }, false],
    ['issuedBefore negative', { slug: 'a', issuedBefore: -1 }, false],
    ['issuedBefore fractional', { slug: 'a', issuedBefore: 1.5 }, false],
    ['issuedBefore a string', { slug: 'a', issuedBefore: '5' }, false],
    ['invalid slug', { slug: 'Bad', issuedBefore: 1 }, false],
    ['jti empty', { jti: '' }, false],
    ['jti of 129 chars', { jti: 'j'.repeat(129) }, false],
    ['keyId the identity point', { keyId: `AQ${'A'.repeat(41)}` }, false],
    ['keyId all zero', { keyId: 'A'.repeat(43) }, false],
    ['keyId with padding', { keyId: `${KEY}=` }, false],
    ['keyId of 31 bytes', { keyId: KEY.slice(0, 42) }, false],
    ['an unknown field', { jti: 'j', extra: 1 }, false],
  ])('%s → %s', (_label, fields, ok) => {
    expect(parse(fields).success).toBe(ok);
  });

  it('says what a selector is when there is none or two', () => {
    const result = parse({ keyId: KEY, jti: 'j' });
    expect(result.success).toBe(false);
    if (!result.success) expect(describeIssue(result.error)).toContain('exactly one selector');
  });

  it('selectorOf keeps exactly the selector fields', () => {
    const r = parse({ slug: 'deploy-svc', issuedBefore: 7 });
    if (!r.success) throw new Error('expected success');
    expect(selectorOf(r.data)).toEqual({ slug: 'deploy-svc', issuedBefore: 7 });
    expect(selectorOf({ keyId: KEY })).toEqual({ keyId: KEY });
    expect(selectorOf({ jti: 'j' })).toEqual({ jti: 'j' });
  });
});

describe('revocations', () => {
  it('takes no fields', () => {
    expect(requestSchemas.revocations.safeParse({ op: 'revocations', ...head }).success).toBe(true);
    expect(requestSchemas.revocations.safeParse({ op: 'revocations', ...head, jti: 'j' }).success).toBe(false);
  });
});
