/** `secret-svc watch [PREFIX] [--keys K…]`: prints the changes to readable secrets as they are committed. */
import type { Command } from 'commander';
import type { WatchSelector } from '@secret-svc/client';
import { withClient } from '../lib/client-config.js';
import { UsageError } from '../lib/exit-codes.js';
import { out, warn } from '../lib/io.js';
import { batchLines } from '../watch/lines.js';
import { newestRevision, stopOnInterrupt } from '../watch/feed.js';

interface WatchFlags {
  keys?: string[];
  since?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('watch')
    .summary('print changes to secrets as they happen, until Ctrl-C')
    .description('print one line per committed change to a secret you can read whose key starts with PREFIX (or one ' +
      'of --keys): time, op (create, update, delete — delete also when you lost the right to read it), key, version, ' +
      'revision. A "reset" line means changes were missed (--since too old): re-read what you hold. Values are ' +
      'never shown. Runs until Ctrl-C (exit 0); rides out NATS and worker restarts without losing a change.\n\n' +
      'Example: secret-svc watch deploy-svc/ --json')
    .argument('[prefix]', 'only keys starting with this (default: every secret you can read)')
    .option('--keys <keys...>', 'only these keys (1 to 100; not with PREFIX)')
    .option('--since <rev>', 'start after this revision (a "rev" printed earlier) instead of now')
    .option('--json', 'one JSON object per line: {key, op, version, rev, at}, or {at, reset, rev}')
    .action(async (prefix: string | undefined, o: WatchFlags, cmd: Command) => {
      if (prefix !== undefined && o.keys) throw new UsageError('give PREFIX or --keys, not both');
      const since = o.since === undefined ? undefined : revision(o.since);
      const selector: WatchSelector = o.keys ? { keys: o.keys } : { prefix: prefix ?? '' };
      const interrupt = stopOnInterrupt();
      try {
        await withClient(cmd, async (client) => {
          const from = since ?? await newestRevision(client);
          warn(`watching ${o.keys ? o.keys.join(', ') : prefix ? `${prefix}*` : 'every secret you can read'} after revision ${from} (Ctrl-C to stop)\n`);
          for await (const batch of client.watch(selector, { since: from, signal: interrupt.signal })) out(batchLines(batch, Boolean(o.json)));
        }, { reconnect: true });
      } finally {
        interrupt.release();
      }
    });
}

/** A revision given on the command line: a non-negative integer. */
function revision(text: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--since must be a revision: a non-negative integer (got "${text.slice(0, 20)}")`);
  }
  return Number(text);
}
