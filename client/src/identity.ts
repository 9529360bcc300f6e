/** Loads the caller's credential and private key, given as values or file paths. */
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { parseCredential, parsePrivateJwk, privateKeyObject, type ParsedCredential, type PrivateJwk } from '@secret-svc/protocol';
import { IdentityError } from './errors.js';

export interface IdentityOptions {
  /** The credential text (a compact JWS). */
  credential?: string;
  /** Path of a file holding the credential. */
  credentialFile?: string;
  /** The private key as a JWK object or its JSON text. */
  key?: PrivateJwk | string;
  /** Path of a JWK file. */
  keyFile?: string;
  /** Where the file paths came from (an option or variable name), for error messages. */
  sources?: { credentialFile?: string; keyFile?: string };
}

export interface Identity {
  credential: string;
  key: KeyObject;
  slug: string;
}

function readSetting(file: string, what: string, source: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new IdentityError('unreadable', `cannot read the ${what} file ${file} (named by ${source}): ${reason}`, { cause: err });
  }
}

/** Throws IdentityError (with `problem`) when the credential or key is missing, unreadable or wrong. */
export function loadIdentity(o: IdentityOptions): Identity {
  const credentialText = o.credential
    ?? (o.credentialFile ? readSetting(o.credentialFile, 'credential', o.sources?.credentialFile ?? 'credentialFile') : '');
  const credential = credentialText.trim();
  if (!credential) throw new IdentityError('missing', 'no credential: give credential or credentialFile');
  let parsed: ParsedCredential;
  try {
    parsed = parseCredential(credential);
  } catch (err) {
    throw new IdentityError('invalid', `credential: ${(err as Error).message}`, { cause: err });
  }
  let jwkValue: unknown = o.key;
  if (jwkValue === undefined && o.keyFile) jwkValue = readSetting(o.keyFile, 'private key', o.sources?.keyFile ?? 'keyFile');
  if (jwkValue === undefined) throw new IdentityError('missing', 'no private key: give key or keyFile');
  if (typeof jwkValue === 'string') {
    try {
      jwkValue = JSON.parse(jwkValue);
    } catch {
      throw new IdentityError('invalid', 'private key is not JSON (expected an Ed25519 JWK)');
    }
  }
  let jwk: PrivateJwk;
  try {
    jwk = parsePrivateJwk(jwkValue);
  } catch (err) {
    throw new IdentityError('invalid', `private key: ${(err as Error).message}`, { cause: err });
  }
  if (jwk.x !== parsed.claims.cnf.jwk.x) throw new IdentityError('mismatch', 'private key does not match the credential (cnf)');
  return { credential, key: privateKeyObject(jwk), slug: parsed.claims.sub };
}
