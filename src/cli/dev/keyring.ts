/**
 * Where `secret-svc dev` takes its encryption keyring from, as a worker does (docs/protocol.md §13):
 *
 *   1. a keyring variable in its environment (SECRET_SVC_ENCRYPTION_KEYS, _KEYS_FILE, _KEY_COMMAND,
 *      SECRET_SVC_ENCRYPTION_KEY / _FILE), passed on to its worker unchanged;
 *   2. else `<dir>/encryption.keys` when it exists (one key a line, the first seals): the file a
 *      rotation edits;
 *   3. else `<dir>/encryption.key`, the single key dev created on its first run.
 */
import { existsSync } from 'node:fs';
import { KEYRING_ENV, type KeyringVariable } from '../../keyring-source.js';
import type { DevState } from './state.js';

export interface DevKeyring {
  variable: KeyringVariable;
  value: string;
  /** For the banner: where the ring came from. */
  source: string;
}

export function devKeyring(state: DevState, env: Readonly<Record<string, string | undefined>>, shown: (path: string) => string): DevKeyring {
  const given = KEYRING_ENV.filter((name) => env[name] !== undefined && env[name] !== '');
  // More than one is refused by the worker's own check, naming them all.
  if (given.length > 0) return { variable: given[0]!, value: env[given[0]!]!, source: `${given.join(', ')} from the environment` };
  if (existsSync(state.keyringFile)) {
    return { variable: 'SECRET_SVC_ENCRYPTION_KEYS_FILE', value: state.keyringFile, source: shown(state.keyringFile) };
  }
  return { variable: 'SECRET_SVC_ENCRYPTION_KEY_FILE', value: state.encryptionKeyFile, source: shown(state.encryptionKeyFile) };
}
