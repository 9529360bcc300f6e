/** seal(k, m) = nonce || secretbox(k, nonce, m) with a fresh 24-byte nonce (PROTOCOL.md §12). */
import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';

export const SEAL_NONCE_BYTES = nacl.secretbox.nonceLength; // 24
/** The shortest sealed text: a nonce and the 16-byte tag of an empty message. */
export const SEAL_OVERHEAD = SEAL_NONCE_BYTES + nacl.secretbox.overheadLength;

/**
 * Fresh nonces are cut from a block of CSPRNG output fetched 512 at a time: one randomBytes
 * call per reply cost 5% of a worker's CPU on session reads. Each block is a new buffer and
 * every nonce is a distinct slice of it, so no nonce is ever handed out twice.
 */
const NONCES_PER_BLOCK = 512;
let block = Buffer.alloc(0);
let used = 0;

function freshNonce(): Buffer {
  if (used + SEAL_NONCE_BYTES > block.length) {
    block = randomBytes(SEAL_NONCE_BYTES * NONCES_PER_BLOCK);
    used = 0;
  }
  const nonce = block.subarray(used, used + SEAL_NONCE_BYTES);
  used += SEAL_NONCE_BYTES;
  return nonce;
}

/** `nonce` is for reproducing test vectors only: never seal twice under one nonce. */
export function seal(key: Uint8Array, message: Uint8Array, nonce: Uint8Array = freshNonce()): Buffer {
  return Buffer.concat([nonce, nacl.secretbox(message, nonce, key)]);
}

/** The message, or undefined when the sealed bytes were altered, cut or sealed under another key. */
export function open(key: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  if (sealed.byteLength < SEAL_OVERHEAD) return undefined;
  const opened = nacl.secretbox.open(sealed.subarray(SEAL_NONCE_BYTES), sealed.subarray(0, SEAL_NONCE_BYTES), key);
  return opened ? Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength) : undefined;
}
