/** Loads the caller's credential and private key, given as values or file paths. */
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { parseCredential, parsePrivateJwk, privateKeyObject, type PrivateJwk } from '@secret-svc/protocol';

export interface IdentityOptions {
  /** The credential text (a compact JWS). */
  credential?: string;
  /** Path of a file holding the credential. */
  credentialFile?: string;
  /** The private key as a JWK object or its JSON text. */
  key?: PrivateJwk | string;
  /** Path of a JWK file. */
  keyFile?: string;
}

export interface Identity {
  credential: string;
  key: KeyObject;
  slug: string;
}

export function loadIdentity(o: IdentityOptions): Identity {
  const credential = (o.credential ?? (o.credentialFile ? readFileSync(o.credentialFile, 'utf8') : '')).trim();
  if (!credential) throw new Error('no credential: give credential or credentialFile');
  const parsed = parseCredential(credential);
  if (typeof parsed === 'string') throw new Error(parsed);
  let jwkValue: unknown = o.key;
  if (jwkValue === undefined && o.keyFile) jwkValue = readFileSync(o.keyFile, 'utf8');
  if (jwkValue === undefined) throw new Error('no private key: give key or keyFile');
  if (typeof jwkValue === 'string') {
    try {
      jwkValue = JSON.parse(jwkValue);
    } catch {
      throw new Error('private key is not JSON (expected an Ed25519 JWK)');
    }
  }
  const jwk = parsePrivateJwk(jwkValue);
  if (jwk.x !== parsed.claims.cnf.jwk.x) throw new Error('private key does not match the credential (cnf)');
  return { credential, key: privateKeyObject(jwk), slug: parsed.claims.sub };
}
