const B64URL_RE = /^[A-Za-z0-9_-]*$/;

export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Strict decode: Buffer's own decoder silently skips foreign characters, so check first. */
export function fromBase64url(text: string): Buffer | undefined {
  if (!B64URL_RE.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64url');
}
