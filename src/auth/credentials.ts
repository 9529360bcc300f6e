/** Verifies credentials against the trusted issuers, caching the result (a verify costs ~80 µs). */
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  parseCredential, publicKeyObject, UnauthenticatedError, verifyCredentialSignature,
} from '@secret-svc/protocol';
import type { VerifiedCredential } from './caller.js';

const CACHE_SIZE = 10_000;
// Failures are cached briefly so a flood of one bad credential costs one verify.
const REJECT_CACHE_SIZE = 1_000;
const REJECT_TTL_MS = 10_000;

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
    if (typeof parsed === 'string') throw new UnauthenticatedError(parsed);
    const { claims } = parsed;
    const issuerKey = this.issuers.get(claims.iss);
    if (!issuerKey) throw new UnauthenticatedError('credential issuer is not trusted');
    if (!verifyCredentialSignature(parsed, issuerKey)) throw new UnauthenticatedError('credential signature is invalid');
    return {
      slug: claims.sub,
      admin: claims.admin === true,
      issuer: claims.iss,
      keyId: claims.cnf.jwk.x,
      publicKey: publicKeyObject(claims.cnf.jwk.x),
      expiresAtMs: claims.exp !== undefined ? claims.exp * 1000 : null,
      notBeforeMs: claims.nbf !== undefined ? claims.nbf * 1000 : null,
    };
  }
}
