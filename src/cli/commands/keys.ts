/**
 * `secret-svc keys …`: operator commands for the encryption keyring (docs/protocol.md §13), run
 * with a worker's environment. `generate` needs none of it; `status` and `rewrap` read the
 * keyring and Redis variables only (commands/keys/).
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { KEY_BYTES, keyIdOf } from '../../keyring-source.js';
import { CliError, EXIT, UsageError } from '../lib/exit-codes.js';
import { out, warn } from '../lib/io.js';
import { streams } from '../lib/streams.js';
import { withOperatorStore } from './keys/operator-store.js';
import { DEFAULT_BATCH, rewrapAll, summaryLine } from './keys/rewrap.js';
import { keyStatus, statusText } from './keys/status.js';
import { progress } from '../lib/progress-bar.js';

const ENV_NOTE = 'Run with a worker\'s environment: the keyring (SECRET_SVC_ENCRYPTION_KEYS, _KEYS_FILE, _KEY_COMMAND, ' +
  'or SECRET_SVC_ENCRYPTION_KEY / _FILE) and REDIS_URL, REDIS_MODE, REDIS_SENTINEL_*, SECRET_SVC_REDIS_PREFIX.';

export function register(program: Command): void {
  const keys = program
    .command('keys')
    .summary('manage the encryption keyring (generate, status, rewrap)')
    .description('manage the encryption keyring that seals stored values (SECRET_SVC_ENCRYPTION_KEYS, ' +
      '_KEYS_FILE, _KEY_COMMAND, or the single SECRET_SVC_ENCRYPTION_KEY / _FILE)');
  registerGenerate(keys);
  registerStatus(keys);
  registerRewrap(keys);
}

function registerStatus(keys: Command): void {
  keys
    .command('status')
    .summary('count the stored values each key id seals')
    .description('print, for each key id of the ring and any other id found in Redis, how many stored values it seals ' +
      '(every kept version of every secret, and the canary), and which ring keys can be dropped.\n' + ENV_NOTE)
    .option('--json', 'print [{"id","inRing","values"}…], ring keys first in ring order')
    .action(async (o: { json?: boolean }) => {
      const rows = await withOperatorStore(keyStatus);
      out(o.json ? `${JSON.stringify(rows)}\n` : statusText(rows));
    });
}

function registerRewrap(keys: Command): void {
  keys
    .command('rewrap')
    .summary('move every stored value to the first key of the ring')
    .description('re-seal every stored value (all kept versions) and the canary with the ring\'s first key, while workers ' +
      'keep serving: each record only if unchanged since it was read, so no concurrent write is lost; records written ' +
      'meanwhile are tried again. Interrupted (Ctrl-C, a crash)? Run it again: it skips what is already current. ' +
      'Exits 0 only when no value is left under another key.\n' + ENV_NOTE)
    .option('--batch <n>', 'records per batch', String(DEFAULT_BATCH))
    .action(async (o: { batch: string }) => {
      const batch = Number(o.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new UsageError('--batch must be an integer from 1 to 10000');
      let stop = false;
      const onSigint = () => { stop = true; };
      process.once('SIGINT', onSigint);
      try {
        await withOperatorStore(async (store) => {
          const first = store.keyIds[0]!;
          const s = await rewrapAll(store, { batch, stopped: () => stop, progress: (total) => progress('rewrap', total) });
          if (s.interrupted) {
            throw new CliError('interrupted: every record is either moved or untouched; run `secret-svc keys rewrap` again to ' +
              'finish (it skips what is already current)', 130);
          }
          out(`${summaryLine(s, first)}\n`);
          for (const f of s.failures.slice(0, 10)) warn(`failed: ${f.key}: ${f.message}\n`);
          if (s.failures.length > 10) warn(`… and ${s.failures.length - 10} more failed\n`);
          if (s.left.size > 0) {
            const left = [...s.left].map(([id, n]) => `${n} under ${id}`).join(', ');
            throw new CliError(`not done: ${left}. Values that fail to open need a key the ring lacks; values still being ` +
              `written under another key mean a worker still seals with it: give every worker ${first} first, then run ` +
              'this again', EXIT.other);
          }
          out(`every stored value is under key ${first}\n`);
        });
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
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
      if (streams().stdout.isTTY) {
        warn(`(key id ${keyIdOf(key)}) To change keys, give every worker this key second in its ring first: ` +
          'see docs/key-rotation.md.\n');
      }
    });
}
