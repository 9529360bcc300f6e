/** `secret-svc rm KEY`: delete a secret. */
import type { Command } from 'commander';
import { withClient } from '../context.js';
import { out } from '../io.js';
import { parseVersion } from '../lists.js';

export function register(program: Command): void {
  program
    .command('rm')
    .summary('delete a secret')
    .description('delete KEY')
    .argument('<key>', 'the secret key')
    .option('--if-version <n>', 'only if the current version is n (else 409, exit 6)', parseVersion)
    .action(async (key: string, o: { ifVersion?: number }, cmd: Command) => {
      await withClient(cmd, (c) => c.delete(key, o.ifVersion !== undefined ? { ifVersion: o.ifVersion } : {}));
      out(`deleted ${key}\n`);
    });
}
