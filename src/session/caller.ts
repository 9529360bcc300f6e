/** Who a session request comes from: what the ticket carries about the credential behind it. */

/**
 * The same shape as the authenticate step's Caller (src/auth/caller.ts once it carries `jti`
 * and `iat`), so a session request and a signed one yield interchangeable callers.
 */
export interface SessionCaller {
  slug: string;
  admin: boolean;
  /** The issuer's public key text. */
  issuer: string;
  /** The caller's public key text (credential cnf); nonces are remembered per key. */
  keyId: string;
  /** The credential's `jti`, if it has one. */
  jti: string | null;
  /** The credential's `iat` in epoch ms, if any. */
  issuedAtMs: number | null;
  /** The credential's `exp` in epoch ms, if any. */
  expiresAtMs: number | null;
}
