/**
 * Revocation selectors (docs/protocol.md §10) and the pure question "does this entry match this
 * verified caller?".
 */
import { fromBase64url, type CredentialClaims, type RevocationEntry, type RevocationSelector } from '@secret-svc/protocol';

export type { RevocationEntry, RevocationSelector };

/** What revocation looks at in a verified credential. */
export interface RevocationSubject {
  /** The credential's cnf key, base64url text (compared as its 32 decoded bytes). */
  keyId: string;
  jti?: string | null;
  slug: string;
  /** `iat` in epoch ms, or null when the credential has none. */
  issuedAtMs: number | null;
}

/** The revocation view of a credential's verified claims (for the authenticate step to cache). */
export function revocationSubjectOf(claims: Pick<CredentialClaims, 'cnf' | 'jti' | 'sub' | 'iat'>): RevocationSubject {
  return {
    keyId: claims.cnf.jwk.x,
    jti: claims.jti ?? null,
    slug: claims.sub,
    issuedAtMs: claims.iat !== undefined ? claims.iat * 1000 : null,
  };
}

/** A key's identity as bytes (hex of the 32 decoded bytes), or undefined if it is not a key. */
export function keyBytesId(keyId: string): string | undefined {
  const bytes = fromBase64url(keyId);
  return bytes?.length === 32 ? bytes.toString('hex') : undefined;
}

export function isKeyIdSelector(s: RevocationSelector): s is { keyId: string } {
  return 'keyId' in s && typeof s.keyId === 'string';
}

export function isJtiSelector(s: RevocationSelector): s is { jti: string } {
  return 'jti' in s && typeof s.jti === 'string';
}

export function isSlugSelector(s: RevocationSelector): s is { slug: string; issuedBefore: number } {
  return 'slug' in s && typeof s.slug === 'string' && 'issuedBefore' in s && typeof s.issuedBefore === 'number';
}

/** A credential without `iat` is issued "before" every time: it cannot prove otherwise. */
export function issuedBeforeCutoff(issuedAtMs: number | null, issuedBeforeSeconds: number): boolean {
  return issuedAtMs === null || issuedAtMs < issuedBeforeSeconds * 1000;
}

/** Does `selector` match `subject`? A selector of no known form (or a key that is not one) matches nothing. */
export function selectorMatches(selector: RevocationSelector, subject: RevocationSubject): boolean {
  if (isKeyIdSelector(selector)) {
    const wanted = keyBytesId(selector.keyId);
    return wanted !== undefined && wanted === keyBytesId(subject.keyId);
  }
  if (isJtiSelector(selector)) return subject.jti != null && subject.jti === selector.jti;
  if (isSlugSelector(selector)) return subject.slug === selector.slug && issuedBeforeCutoff(subject.issuedAtMs, selector.issuedBefore);
  return false;
}

/** The selector part of an entry, with only its own fields (what `unrevoke` compares). */
export function selectorOfEntry(e: RevocationSelector): RevocationSelector {
  if (isKeyIdSelector(e)) return { keyId: e.keyId };
  if (isJtiSelector(e)) return { jti: e.jti };
  if (isSlugSelector(e)) return { slug: e.slug, issuedBefore: e.issuedBefore };
  throw new TypeError('not a revocation selector');
}
