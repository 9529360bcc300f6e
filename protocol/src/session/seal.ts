/** seal(k, m) = nonce || secretbox(k, nonce, m) with a fresh 24-byte nonce (docs/protocol.md §12). */
import nacl from 'tweetnacl';
import { randomSlice } from '../random.js';

export const SEAL_NONCE_BYTES = nacl.secretbox.nonceLength; // 24
/** The shortest sealed text: a nonce and the 16-byte tag of an empty message. */
export const SEAL_OVERHEAD = SEAL_NONCE_BYTES + nacl.secretbox.overheadLength;

/**
 * The secretbox primitive (XSalsa20-Poly1305, NaCl's layout: tag then ciphertext). tweetnacl
 * is the reference; a worker installs a native one of the same bytes with useSecretbox().
 */
export interface SecretboxPrimitive {
  seal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  open(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null;
}

export const TWEETNACL_SECRETBOX: SecretboxPrimitive = {
  seal: (message, nonce, key) => nacl.secretbox(message, nonce, key),
  open: (box, nonce, key) => nacl.secretbox.open(box, nonce, key),
};

let secretbox = TWEETNACL_SECRETBOX;

/** Seals and opens sessions with `primitive` in this process from now on (the worker: libsodium). */
export function useSecretbox(primitive: SecretboxPrimitive): void {
  secretbox = primitive;
}

/** `nonce` is for reproducing test vectors only: never seal twice under one nonce. */
export function seal(key: Uint8Array, message: Uint8Array, nonce: Uint8Array = randomSlice(SEAL_NONCE_BYTES)): Buffer {
  return Buffer.concat([nonce, secretbox.seal(message, nonce, key)]);
}

/** The message, or undefined when the sealed bytes were altered, cut or sealed under another key. */
export function open(key: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  if (sealed.byteLength < SEAL_OVERHEAD) return undefined;
  const opened = secretbox.open(sealed.subarray(SEAL_NONCE_BYTES), sealed.subarray(0, SEAL_NONCE_BYTES), key);
  return opened ? Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength) : undefined;
}
