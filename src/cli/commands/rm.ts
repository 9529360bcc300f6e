/** `secret-svc rm KEY…` / `rm --prefix P`: delete secrets (several only after confirmation or --yes). */
import type { Command } from 'commander';
import { listKeys } from '../lib/batch-read.js';
import { withClient } from '../lib/client-config.js';
import { UsageError } from '../lib/exit-codes.js';
import { confirm, out, warn } from '../lib/io.js';
import { parseVersion } from '../lib/access-list-flags.js';

interface RmFlags {
  ifVersion?: number;
  prefix?: string;
  yes?: boolean;
}

export function register(program: Command): void {
  program
    .command('rm')
    .summary('delete secrets (KEY…, or --prefix)')
    .description('delete each KEY, or every secret you can see under --prefix; more than one only after confirmation ' +
      '(on a terminal) or with --yes; prints what was deleted, also when a deletion fails part way')
    .argument('[keys...]', 'the secret keys')
    .option('--prefix <prefix>', 'every secret you can see whose key starts with this')
    .option('--if-version <n>', 'only if the current version is n (one KEY only; else 409, exit 6)', parseVersion)
    .option('-y, --yes', 'do not ask before deleting several secrets')
    .action(async (given: string[], o: RmFlags, cmd: Command) => {
      if (!given.length && o.prefix === undefined) throw new UsageError('give KEY… or --prefix');
      if (o.prefix === '') throw new UsageError('--prefix must not be empty (that would be every secret)');
      if (o.ifVersion !== undefined && (given.length !== 1 || o.prefix !== undefined)) throw new UsageError('--if-version needs exactly one KEY');
      await withClient(cmd, async (c) => {
        const keys = [...new Set([...given, ...(o.prefix === undefined ? [] : await listKeys(c, o.prefix))])];
        if (!keys.length) {
          warn(`no secrets under ${o.prefix}\n`);
          return;
        }
        if (keys.length > 1) await confirm(`delete ${keys.length} secrets (${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', …' : ''})?`, o.yes);
        let deleted = 0;
        try {
          for (const key of keys) {
            await c.delete(key, o.ifVersion !== undefined ? { ifVersion: o.ifVersion } : {});
            deleted++;
            out(`deleted ${key}\n`);
          }
        } catch (err) {
          if (keys.length > 1) warn(`deleted ${deleted} of ${keys.length} secrets before the error (at ${keys[deleted]})\n`);
          throw err;
        }
        if (keys.length > 1) out(`deleted ${deleted} secrets\n`);
      });
    });
}
