/**
 * SECRET_SVC_SERVICE_KEY (docs/protocol.md §12): the file of an Ed25519 JWK private key, the same
 * on every worker, that signs handshake replies. Messages name the variable and the file,
 * never the key.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parsePrivateJwk, privateKeyObject } from '@secret-svc/protocol';

export const SERVICE_KEY_ENV = 'SECRET_SVC_SERVICE_KEY';

/** A service key that cannot be used; config.ts turns it into a ConfigError. */
export class ServiceKeyError extends Error {}

/** The signing key from the file at `file`, or undefined when the variable is not set. */
export function loadServiceKey(file: string | undefined): KeyObject | undefined {
  if (file === undefined || file === '') return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ServiceKeyError(`${SERVICE_KEY_ENV}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ServiceKeyError(`${SERVICE_KEY_ENV}: ${file} is not JSON (expected an Ed25519 JWK private key, e.g. from \`secret-svc keygen\`)`);
  }
  try {
    return privateKeyObject(parsePrivateJwk(value));
  } catch (err) {
    // parsePrivateJwk and privateKeyObject name what is wrong without echoing "d".
    throw new ServiceKeyError(`${SERVICE_KEY_ENV}: ${file}: ${(err as Error).message}`);
  }
}
