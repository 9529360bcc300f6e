/** Revocation selectors matched against verified callers, and the in-memory set (docs/protocol.md §10). */
import { describe, expect, it } from 'vitest';
import { generateJwk, issueCredential, parseCredential, privateKeyObject } from '@secret-svc/protocol';
import {
  RevocationSet, revocationSubjectOf, selectorMatches, selectorOfEntry, type RevocationEntry, type RevocationSelector, type RevocationSubject,
} from '../../src/revocation/index.js';

const K1 = generateJwk().x;
const K2 = generateJwk().x;
const T = 1_700_000_000; // seconds

const caller = (o: Partial<RevocationSubject> = {}): RevocationSubject => ({
  keyId: K1, jti: 'jti-1', slug: 'svc-a', issuedAtMs: (T - 10) * 1000, ...o,
});

const cases: Array<[string, RevocationSelector, RevocationSubject, boolean]> = [
  ['keyId: same key', { keyId: K1 }, caller(), true],
  ['keyId: other key', { keyId: K2 }, caller(), false],
  ['keyId: not a key matches nothing', { keyId: 'abc' }, caller({ keyId: 'abc' }), false],
  ['keyId: a caller key text that is not a key', { keyId: K1 }, caller({ keyId: 'nope' }), false],
  ['jti: same', { jti: 'jti-1' }, caller(), true],
  ['jti: other', { jti: 'jti-2' }, caller(), false],
  ['jti: caller without jti', { jti: 'jti-1' }, caller({ jti: undefined }), false],
  ['jti: caller with null jti', { jti: 'jti-1' }, caller({ jti: null }), false],
  ['jti: is case-sensitive', { jti: 'JTI-1' }, caller(), false],
  ['slug: iat before the cutoff', { slug: 'svc-a', issuedBefore: T }, caller(), true],
  ['slug: iat one second before', { slug: 'svc-a', issuedBefore: T }, caller({ issuedAtMs: (T - 1) * 1000 }), true],
  ['slug: iat equal to the cutoff is not before it', { slug: 'svc-a', issuedBefore: T }, caller({ issuedAtMs: T * 1000 }), false],
  ['slug: iat after the cutoff', { slug: 'svc-a', issuedBefore: T }, caller({ issuedAtMs: (T + 5) * 1000 }), false],
  ['slug: fractional iat just before', { slug: 'svc-a', issuedBefore: T }, caller({ issuedAtMs: T * 1000 - 500 }), true],
  ['slug: no iat matches', { slug: 'svc-a', issuedBefore: 0 }, caller({ issuedAtMs: null }), true],
  ['slug: cutoff 0 and an iat', { slug: 'svc-a', issuedBefore: 0 }, caller({ issuedAtMs: 0 }), false],
  ['slug: other slug', { slug: 'svc-b', issuedBefore: T }, caller(), false],
  ['slug: other slug without iat', { slug: 'svc-b', issuedBefore: T }, caller({ issuedAtMs: null }), false],
];

describe('selectorMatches', () => {
  it.each(cases)('%s', (_name, selector, subject, expected) => {
    expect(selectorMatches(selector, subject)).toBe(expected);
  });

  it('a selector of no known form matches nothing', () => {
    expect(selectorMatches({} as RevocationSelector, caller())).toBe(false);
    expect(selectorMatches({ slug: 'svc-a' } as unknown as RevocationSelector, caller({ issuedAtMs: null }))).toBe(false);
  });

  it('selectorOfEntry keeps only the selector fields', () => {
    expect(selectorOfEntry({ jti: 'x', at: 'now', by: 'admin' } as RevocationEntry)).toEqual({ jti: 'x' });
    expect(selectorOfEntry({ slug: 's', issuedBefore: 3, at: 'now', by: 'a' } as RevocationEntry)).toEqual({ slug: 's', issuedBefore: 3 });
    expect(selectorOfEntry({ keyId: K1, at: 'now', by: 'a' } as RevocationEntry)).toEqual({ keyId: K1 });
  });
});

const entry = (s: RevocationSelector): RevocationEntry => ({ ...s, at: '2026-01-01T00:00:00.000Z', by: 'admin' });

describe('RevocationSet', () => {
  it('agrees with selectorMatches on every case, one entry at a time', () => {
    const set = new RevocationSet();
    for (const [name, selector, subject, expected] of cases) {
      set.replace([entry(selector)], 1);
      expect(set.isRevoked(subject), name).toBe(expected);
    }
  });

  it('matches when any entry matches, and only then', () => {
    const set = new RevocationSet();
    set.replace([entry({ keyId: K2 }), entry({ jti: 'gone' }), entry({ slug: 'svc-a', issuedBefore: T - 100 }), entry({ slug: 'svc-a', issuedBefore: T })], 7);
    expect(set.revision).toBe(7);
    expect(set.size).toBe(4);
    expect(set.isRevoked(caller())).toBe(true); // the later cutoff of svc-a
    expect(set.isRevoked(caller({ issuedAtMs: (T - 200) * 1000 }))).toBe(true);
    expect(set.isRevoked(caller({ issuedAtMs: T * 1000 }))).toBe(false);
    expect(set.isRevoked(caller({ issuedAtMs: T * 1000, keyId: K2 }))).toBe(true);
    expect(set.isRevoked(caller({ issuedAtMs: T * 1000, jti: 'gone' }))).toBe(true);
    expect(set.isRevoked(caller({ slug: 'svc-b', issuedAtMs: null }))).toBe(false);
  });

  it('replace swaps the whole set: what is no longer listed is no longer revoked', () => {
    const set = new RevocationSet();
    expect(set.revision).toBe(-1);
    expect(set.isRevoked(caller())).toBe(false);
    set.replace([entry({ jti: 'jti-1' })], 1);
    expect(set.isRevoked(caller())).toBe(true);
    set.replace([entry({ jti: 'other' })], 2);
    expect(set.isRevoked(caller())).toBe(false);
    expect(set.entries()).toEqual([entry({ jti: 'other' })]);
    set.replace([], 3);
    expect(set.size).toBe(0);
  });

  it('keeps the entries in the order given, and a caller changing its copy changes nothing', () => {
    const set = new RevocationSet();
    const list = [entry({ jti: 'b' }), entry({ jti: 'a' })];
    set.replace(list, 1);
    list.push(entry({ jti: 'jti-1' }));
    expect(set.entries().map((e) => (e as { jti: string }).jti)).toEqual(['b', 'a']);
    expect(set.isRevoked(caller())).toBe(false);
  });
});

describe('revocationSubjectOf', () => {
  const issuer = generateJwk();
  const claimsOf = (o: { jti?: string; now?: number }) => {
    const parsed = parseCredential(issueCredential({ issuerKey: privateKeyObject(issuer), issuer: issuer.x, slug: 'svc-a', subjectKey: K1, ...o }));
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed.claims;
  };

  it('takes the cnf key, jti, sub and iat (in ms) of a credential', () => {
    expect(revocationSubjectOf(claimsOf({ jti: 'j-1', now: T * 1000 }))).toEqual({ keyId: K1, jti: 'j-1', slug: 'svc-a', issuedAtMs: T * 1000 });
  });

  it('a credential without jti or iat gives nulls, and the slug rule then matches it', () => {
    const { iat: _iat, ...noIat } = claimsOf({});
    const subject = revocationSubjectOf(noIat);
    expect(subject).toMatchObject({ jti: null, issuedAtMs: null });
    expect(selectorMatches({ slug: 'svc-a', issuedBefore: 0 }, subject)).toBe(true);
  });
});
