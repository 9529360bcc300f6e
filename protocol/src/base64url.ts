/**
 * Base64url without padding (RFC 4648 §5), strict: one text per byte string. Buffer's own
 * decoder skips foreign characters, accepts padding and ignores non-zero trailing bits, so
 * one key or signature would have several spellings (and one caller several nonce spaces).
 */
const B64URL_RE = /^[A-Za-z0-9_-]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** The bytes of canonical base64url text, or undefined for anything else. */
export function fromBase64url(text: string): Buffer | undefined {
  const rest = text.length % 4;
  if (rest === 1 || !B64URL_RE.test(text)) return undefined;
  if (rest !== 0) {
    // The last character carries 4 (rest 2) or 2 (rest 3) bits that must be zero.
    const unused = rest === 2 ? 0x0f : 0x03;
    if ((ALPHABET.indexOf(text[text.length - 1]!) & unused) !== 0) return undefined;
  }
  return Buffer.from(text, 'base64url');
}
