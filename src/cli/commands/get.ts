/** `secret-svc get KEY`: the value alone (for `$(…)`), or the whole secret with --json. */
import type { Command } from 'commander';
import { withClient } from '../context.js';
import { out } from '../io.js';

export function register(program: Command): void {
  program
    .command('get')
    .summary("print a secret's value (or --json the whole secret)")
    .description('print the value of KEY followed by one newline (none with -n), or the whole secret with --json')
    .argument('<key>', 'the secret key')
    .option('--json', 'print the whole secret (value, lists, version, times) as JSON')
    .option('-n, --no-newline', 'print the value without the trailing newline')
    .action(async (key: string, o: { json?: boolean; newline: boolean }, cmd: Command) => {
      const secret = await withClient(cmd, (c) => c.read(key));
      if (o.json) out(`${JSON.stringify(secret, null, 2)}\n`);
      else out(o.newline ? `${secret.value}\n` : secret.value);
    });
}
