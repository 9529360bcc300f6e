/**
 * `secret-svc keys …`: operator commands for the encryption keyring (PROTOCOL.md §13), run
 * with a worker's environment. `generate` needs none of it; `status` and `rewrap` join here.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { KEY_BYTES, keyIdOf } from '../../keyring-source.js';
import { out } from '../io.js';

export function register(program: Command): void {
  const keys = program
    .command('keys')
    .summary('manage the encryption keyring (generate)')
    .description('manage the encryption keyring that seals stored values (SECRET_SVC_ENCRYPTION_KEYS, ' +
      '_KEYS_FILE, _KEY_COMMAND, or the single SECRET_SVC_ENCRYPTION_KEY / _FILE)');
  registerGenerate(keys);
}

function registerGenerate(keys: Command): void {
  keys
    .command('generate')
    .summary('print a new encryption key')
    .description('print a new encryption key (base64 of 32 random bytes) on stdout, and nothing else')
    .action(() => {
      const key = randomBytes(KEY_BYTES);
      out(`${key.toString('base64')}\n`);
      // Only a person at a terminal gets the hint; `key=$(secret-svc keys generate)` sees the key alone.
      if (process.stdout.isTTY) {
        process.stderr.write(`(key id ${keyIdOf(key)}) To change keys, give every worker this key second in its ring first: ` +
          'see "Rotating the encryption key" in the README.\n');
      }
    });
}
