/** `secret-svc revocations`: every revocation in the order made, as a table or JSON. */
import type { Command } from 'commander';
import { withClient } from '../lib/client-config.js';
import { out, warn } from '../lib/io.js';
import { revocationTable } from '../lib/revocation-flags.js';

export function register(program: Command): void {
  program
    .command('revocations')
    .summary('list revocations (administrators; table or --json)')
    .description('list the revocations in the order they were made: selector, when and by which administrator')
    .option('--json', 'print the JSON array of entries instead of a table')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const { revocations } = await withClient(cmd, (c) => c.revocations());
      if (o.json) out(`${JSON.stringify(revocations, null, 2)}\n`);
      else if (revocations.length === 0) warn('no revocations\n');
      else out(revocationTable(revocations));
    });
}
