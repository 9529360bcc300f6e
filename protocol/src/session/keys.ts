/** Session keys from the X25519 secret (docs/protocol.md §12): HKDF-SHA256, 96 bytes, three keys. */
import { hkdfSync } from 'node:crypto';

export const SESSION_CONTEXT = 'secret-svc/v1 session';
const SALT = Buffer.from(SESSION_CONTEXT, 'ascii');

export interface SessionKeys {
  /** HMAC-SHA256 key of request MACs. */
  macKey: Buffer;
  /** secretbox key of success replies. */
  replyKey: Buffer;
  /** secretbox key of request payloads. */
  requestKey: Buffer;
}

/** okm = HKDF-SHA256(shared, salt "secret-svc/v1 session", info epk || spk, 96). */
export function deriveSessionKeys(shared: Uint8Array, epk: Uint8Array, spk: Uint8Array): SessionKeys {
  const okm = Buffer.from(hkdfSync('sha256', shared, SALT, Buffer.concat([epk, spk]), 96));
  return { macKey: okm.subarray(0, 32), replyKey: okm.subarray(32, 64), requestKey: okm.subarray(64, 96) };
}
