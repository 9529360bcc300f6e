/** Ed25519 keys as JWKs (docs/protocol.md §2), signed and verified with node:crypto. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { fromBase64url } from './base64url.js';

export interface PublicJwk { kty: 'OKP'; crv: 'Ed25519'; x: string }
export interface PrivateJwk extends PublicJwk { d: string }

/** A public key text that is not usable; thrown by publicKeyObject. */
export class PublicKeyError extends Error {}

/**
 * The y coordinates (little endian, sign bit cleared) of the eight points of small order:
 * 0 (two points of order 4), 1 (the identity), p − 1 (order 2), and the two of order 8
 * (each with two signs). Node verifies the signature R = identity, S = 0 under such a key
 * for many messages, so anyone could sign as its holder.
 */
const SMALL_ORDER_Y = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
].map((hex) => Buffer.from(hex, 'hex'));

/** Why 32 raw bytes are not a usable Ed25519 public key, or undefined when they are. */
export function ed25519PublicKeyProblem(raw: Uint8Array): string | undefined {
  if (raw.byteLength !== 32) return 'must be 32 bytes';
  const y = Buffer.from(raw);
  y[31] = y[31]! & 0x7f;
  if (isAtLeastP(y)) return 'is not canonical (y >= 2^255 - 19)';
  if (SMALL_ORDER_Y.some((bad) => bad.equals(y))) return 'is a point of small order';
  return undefined;
}

/** y ≥ p = 2^255 − 19 for a little-endian y below 2^255: ff…ff7f at the top, low byte ≥ 0xed. */
function isAtLeastP(y: Buffer): boolean {
  if (y[31] !== 0x7f || y[0]! < 0xed) return false;
  for (let i = 1; i < 31; i++) if (y[i] !== 0xff) return false;
  return true;
}

/** Why a text is not a usable public key (canonical base64url of a sound key), or undefined. */
export function publicKeyProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'must be a string';
  const raw = fromBase64url(text);
  if (!raw) return 'must be canonical base64url (no padding)';
  return ed25519PublicKeyProblem(raw);
}

/** The one check every public key read by this project goes through (credentials, config, CLI). */
export function isPublicKeyText(text: unknown): text is string {
  return publicKeyProblem(text) === undefined;
}

function isKeyText(text: unknown): text is string {
  return typeof text === 'string' && fromBase64url(text)?.length === 32;
}

/** Checks a JWK's shape; throws a plain Error naming what is wrong (never echoing `d`). */
export function parsePrivateJwk(value: unknown): PrivateJwk {
  const jwk = value as Partial<PrivateJwk> | null;
  if (typeof jwk !== 'object' || jwk === null) throw new Error('key is not a JSON object');
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw new Error('key must be an Ed25519 JWK (kty OKP, crv Ed25519)');
  if (!isKeyText(jwk.x)) throw new Error('key has no valid "x" (base64url of 32 bytes)');
  if (!isKeyText(jwk.d)) throw new Error('key has no valid private part "d"');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d };
}

export function privateKeyObject(jwk: PrivateJwk): KeyObject {
  const key = createPrivateKey({ key: { ...jwk }, format: 'jwk' });
  // A JWK whose x does not belong to d would sign with a key nobody trusts: refuse it early.
  const derived = createPublicKey(key).export({ format: 'jwk' }).x;
  if (derived !== jwk.x) throw new Error('key "x" does not match its private part');
  return key;
}

/** Throws PublicKeyError for a text isPublicKeyText refuses. */
export function publicKeyObject(x: string): KeyObject {
  const problem = publicKeyProblem(x);
  if (problem !== undefined) throw new PublicKeyError(`public key ${problem}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * A new private key as a JWK (with its public `x`), encoded by the key generation itself.
 * Never take KeyObjects from generateKeyPairSync: on Node 20 such a KeyObject shares a lock
 * with the finished generation job; exporting it takes the lock and allocates, and when that
 * allocation collects the job, the job's destructor waits for the same lock and the process
 * hangs for good (seen in CI; test/unit/keygen-deadlock.test.ts reproduces it). Both halves
 * are asked for encoded, so no KeyObject of the job's key exists; KeyObjects are made from the JWK.
 */
export function generatePrivateJwk(type: 'ed25519' | 'x25519'): JsonWebKey {
  const encoding = { privateKeyEncoding: { type: 'pkcs8', format: 'jwk' }, publicKeyEncoding: { type: 'spki', format: 'jwk' } } as const;
  const { privateKey } = type === 'ed25519' ? generateKeyPairSync('ed25519', encoding) : generateKeyPairSync('x25519', encoding);
  // @types/node types JWK output as string | Buffer; at run time it is the JWK object.
  return privateKey as unknown as JsonWebKey;
}

export function generateJwk(): PrivateJwk {
  return parsePrivateJwk(generatePrivateJwk('ed25519'));
}

export function signBytes(key: KeyObject, data: Uint8Array): Buffer {
  return sign(null, data, key);
}

export function verifyBytes(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.byteLength !== 64) return false;
  return verify(null, data, key, signature);
}
