/** `secret-svc get KEY`: the value alone (for `$(…)`), or the whole secret with --json. */
import type { Command } from 'commander';
import { withClient } from '../context.js';
import { out } from '../io.js';
import { versionNumber } from '../version-number.js';

export function register(program: Command): void {
  program
    .command('get')
    .summary("print a secret's value (or --json the whole secret)")
    .description('print the value of KEY followed by one newline (none with -n), or the whole secret with --json')
    .argument('<key>', 'the secret key')
    .option('--json', 'print the whole secret (value, lists, version, times) as JSON')
    .option('-n, --no-newline', 'print the value without the trailing newline')
    .option('--version <n>', 'read kept version N instead of the current one (see `secret-svc versions KEY`)')
    .action(async (key: string, o: { json?: boolean; newline: boolean; version?: string }, cmd: Command) => {
      const version = o.version === undefined ? undefined : versionNumber(o.version, '--version');
      const secret = await withClient(cmd, (c) => c.read(key, version === undefined ? {} : { version }));
      if (o.json) out(`${JSON.stringify(secret, null, 2)}\n`);
      else out(o.newline ? `${secret.value}\n` : secret.value);
    });
}
