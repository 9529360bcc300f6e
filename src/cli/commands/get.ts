/** `secret-svc get KEY`: the value alone (for `$(…)`), or the whole secret with --json. */
import type { Command } from 'commander';
import { withClient } from '../lib/client-config.js';
import { UsageError } from '../lib/exit-codes.js';
import { out } from '../lib/io.js';
import { versionNumber } from '../lib/version-number.js';

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export function register(program: Command): void {
  program
    .command('get')
    .summary("print a secret's value (or --json the whole secret)")
    .description('print the value of KEY followed by one newline (none with -n), or the whole secret with --json')
    .argument('<key>', 'the secret key')
    .option('--json', 'print the whole secret (value, lists, version, times) as JSON')
    .option('-n, --no-newline', 'print the value without the trailing newline')
    .option('--base64-decode', 'the value is base64 (set --base64): print the decoded bytes, no newline added')
    .option('--version <n>', 'read kept version N instead of the current one (see `secret-svc versions KEY`)')
    .action(async (key: string, o: { json?: boolean; newline: boolean; base64Decode?: boolean; version?: string }, cmd: Command) => {
      if (o.json && o.base64Decode) throw new UsageError('--json and --base64-decode exclude each other');
      const version = o.version === undefined ? undefined : versionNumber(o.version, '--version');
      const secret = await withClient(cmd, (c) => c.read(key, version === undefined ? {} : { version }));
      if (o.json) out(`${JSON.stringify(secret, null, 2)}\n`);
      else if (o.base64Decode) {
        if (secret.value.length % 4 !== 0 || !BASE64_RE.test(secret.value)) throw new UsageError(`${key}: the value is not base64`);
        out(Buffer.from(secret.value, 'base64'));
      } else out(o.newline ? `${secret.value}\n` : secret.value);
    });
}
