/** Ed25519 keys as JWKs (PROTOCOL.md §2), signed and verified with node:crypto. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { fromBase64url } from './base64url.js';

export interface PublicJwk { kty: 'OKP'; crv: 'Ed25519'; x: string }
export interface PrivateJwk extends PublicJwk { d: string }

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

export function isPublicKeyText(text: unknown): text is string {
  return isKeyText(text);
}

export function privateKeyObject(jwk: PrivateJwk): KeyObject {
  const key = createPrivateKey({ key: { ...jwk }, format: 'jwk' });
  // A JWK whose x does not belong to d would sign with a key nobody trusts: refuse it early.
  const derived = createPublicKey(key).export({ format: 'jwk' }).x;
  if (derived !== jwk.x) throw new Error('key "x" does not match its private part');
  return key;
}

export function publicKeyObject(x: string): KeyObject {
  if (!isKeyText(x)) throw new Error('public key must be base64url of 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

export function generateJwk(): PrivateJwk {
  const { privateKey } = generateKeyPairSync('ed25519');
  return parsePrivateJwk(privateKey.export({ format: 'jwk' }));
}

export function signBytes(key: KeyObject, data: Uint8Array): Buffer {
  return sign(null, data, key);
}

export function verifyBytes(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.byteLength !== 64) return false;
  return verify(null, data, key, signature);
}
