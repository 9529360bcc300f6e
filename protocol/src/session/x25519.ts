/** X25519 session keys (docs/protocol.md §12, RFC 7748) via node:crypto; nothing here outlives a session. */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { generatePrivateJwk } from '../keys.js';
import { fromBase64url, toBase64url } from '../base64url.js';

export interface SessionKeyPair {
  privateKey: KeyObject;
  /** The raw 32-byte public key (u coordinate, little endian). */
  publicKey: Buffer;
}

/**
 * The u coordinates of the points of small order (RFC 7748 §7): 0, 1, p − 1 and the two of
 * order 8. Agreement with any of them gives the all-zero secret, known to everyone.
 */
const SMALL_ORDER_U = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
].map((hex) => Buffer.from(hex, 'hex'));

/** Why 32 raw bytes are not a usable X25519 public key, or undefined when they are. */
export function x25519PublicKeyProblem(raw: Uint8Array): string | undefined {
  if (raw.byteLength !== 32) return 'must be 32 bytes';
  // The whole 256-bit little-endian value must be below p = 2^255 − 19 (top bit included).
  const top = raw[31]!;
  if (top > 0x7f) return 'is out of range (u >= 2^255 - 19)';
  if (top === 0x7f && raw[0]! >= 0xed && raw.subarray(1, 31).every((b) => b === 0xff)) return 'is out of range (u >= 2^255 - 19)';
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, 32);
  if (SMALL_ORDER_U.some((bad) => bad.equals(bytes))) return 'is a point of small order';
  return undefined;
}

/** The raw key of a canonical base64url text, or why it is unusable. */
export function readX25519PublicKey(text: string): Buffer | string {
  const raw = fromBase64url(text);
  if (!raw) return 'must be canonical base64url (no padding)';
  return x25519PublicKeyProblem(raw) ?? raw;
}

/** A fresh key pair: one per session, on either side (from JWK: see generatePrivateJwk for why). */
export function generateSessionKeyPair(): SessionKeyPair {
  const jwk = generatePrivateJwk('x25519');
  return { privateKey: createPrivateKey({ key: jwk, format: 'jwk' }), publicKey: fromBase64url(jwk.x!)! };
}

/** A key pair from 32 raw private bytes (test vectors; real sessions use generateSessionKeyPair). */
export function sessionKeyPairFromPrivate(raw: Uint8Array): SessionKeyPair {
  if (raw.byteLength !== 32) throw new Error('an X25519 private key is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

/**
 * X25519(own private key, peer public key). The peer key must have passed
 * x25519PublicKeyProblem; an all-zero result is refused all the same (node throws for it).
 */
export function agree(privateKey: KeyObject, peerPublicKey: Uint8Array): Buffer {
  const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toBase64url(peerPublicKey) }, format: 'jwk' });
  const shared = diffieHellman({ privateKey, publicKey: peer });
  if (shared.every((b) => b === 0)) throw new Error('X25519 gave the all-zero secret');
  return shared;
}

function rawPublicKey(key: KeyObject): Buffer {
  return fromBase64url(key.export({ format: 'jwk' }).x!)!;
}

/** PKCS#8 DER of an X25519 private key, up to the 32 key bytes (RFC 8410). */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
