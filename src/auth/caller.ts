/** Who a verified request comes from. */
import type { KeyObject } from 'node:crypto';

export interface Caller {
  slug: string;
  admin: boolean;
  issuer: string;
  /** The caller's public key text (credential cnf); nonces are remembered per key. */
  keyId: string;
  /** Credential expiry in epoch ms, if any. */
  expiresAtMs: number | null;
}

export interface VerifiedCredential extends Caller {
  publicKey: KeyObject;
  notBeforeMs: number | null;
}
