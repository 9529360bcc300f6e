/** Verifies credentials against the trusted issuers, caching the result (a verify costs ~80 µs). */
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  parseCredential, publicKeyObject, UnauthenticatedError, verifyCredentialSignature, type CredentialClaims,
} from '@secret-svc/protocol';
import type { Caller, VerifiedCredential } from './caller.js';

const CACHE_SIZE = 10_000;
// Failures are cached briefly so a flood of one bad credential costs one verify.
const REJECT_CACHE_SIZE = 1_000;
const REJECT_TTL_MS = 10_000;
/** The largest epoch ms a Date holds (ECMA-262 §21.4.1.1). */
const MAX_DATE_MS = 8.64e15;

export class CredentialVerifier {
  private readonly issuers: Map<string, KeyObject>;
  private readonly accepted = new LRUCache<string, VerifiedCredential>({ max: CACHE_SIZE });
  private readonly rejected = new LRUCache<string, string>({ max: REJECT_CACHE_SIZE, ttl: REJECT_TTL_MS });

  constructor(issuers: string[], private readonly maxSkewMs: number) {
    this.issuers = new Map(issuers.map((k) => [k, publicKeyObject(k)]));
  }

  /** Returns the verified credential or throws UnauthenticatedError. */
  verify(text: string, now = Date.now()): VerifiedCredential {
    let cred = this.accepted.get(text);
    if (!cred) {
      const reason = this.rejected.get(text);
      if (reason !== undefined) throw new UnauthenticatedError(reason);
      try {
        cred = this.verifyUncached(text);
      } catch (err) {
        if (err instanceof UnauthenticatedError) this.rejected.set(text, err.message);
        throw err;
      }
      // Time claims are checked on every use below, so caching past exp is harmless.
      this.accepted.set(text, cred);
    }
    if (cred.expiresAtMs !== null && now > cred.expiresAtMs + this.maxSkewMs) {
      this.accepted.delete(text);
      throw new UnauthenticatedError('credential has expired');
    }
    if (cred.notBeforeMs !== null && now < cred.notBeforeMs - this.maxSkewMs) {
      throw new UnauthenticatedError('credential is not valid yet');
    }
    return cred;
  }

  private verifyUncached(text: string): VerifiedCredential {
    const parsed = parseCredential(text);
    const { claims } = parsed;
    const issuerKey = this.issuers.get(claims.iss);
    if (!issuerKey) throw new UnauthenticatedError('credential issuer is not trusted');
    if (!verifyCredentialSignature(parsed, issuerKey)) throw new UnauthenticatedError('credential signature is invalid');
    const caller: Caller = {
      slug: claims.sub,
      // Only an own property: an inherited `admin` (a "__proto__" claim) grants nothing.
      admin: Object.hasOwn(claims, 'admin') && claims.admin === true,
      issuer: claims.iss,
      keyId: claims.cnf.jwk.x,
      jti: claims.jti ?? null,
      issuedAtMs: timeClaimMs(claims, 'iat'),
      expiresAtMs: timeClaimMs(claims, 'exp'),
    };
    return { ...caller, caller, publicKey: publicKeyObject(claims.cnf.jwk.x), notBeforeMs: timeClaimMs(claims, 'nbf') };
  }
}

/** A NumericDate claim in epoch ms; one no Date can hold is refused, not left to fail later. */
function timeClaimMs(claims: CredentialClaims, name: 'iat' | 'exp' | 'nbf'): number | null {
  const seconds = claims[name];
  if (seconds === undefined) return null;
  const ms = seconds * 1000;
  if (!(Math.abs(ms) <= MAX_DATE_MS)) throw new UnauthenticatedError(`credential "${name}" is out of range`);
  return ms;
}
