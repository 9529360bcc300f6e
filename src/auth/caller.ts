/** Who a verified request comes from, and the nonce it claims. */
import type { KeyObject } from 'node:crypto';

export interface Caller {
  slug: string;
  admin: boolean;
  issuer: string;
  /** The caller's public key text (credential cnf); nonces are remembered per key. */
  keyId: string;
  /** The credential's `jti`, if it has one (revocation and audit name credentials by it). */
  jti: string | null;
  /** The credential's `iat` in epoch ms, if any. */
  issuedAtMs: number | null;
  /** Credential expiry in epoch ms, if any. */
  expiresAtMs: number | null;
}

export interface VerifiedCredential extends Caller {
  /** The Caller fields alone, built once with the verification (requests share it, never copy it). */
  caller: Caller;
  publicKey: KeyObject;
  notBeforeMs: number | null;
}

/**
 * The nonce a request claims, in domain terms (the store turns it into its own keys): the
 * caller's key names the namespace, `ttlMs` how long it must be remembered, and `digest`
 * identifies the exact request bytes so a resent write gets its first reply ('' for reads).
 */
export interface NonceClaim {
  callerKeyId: string;
  nonce: string;
  ttlMs: number;
  digest: string;
}
