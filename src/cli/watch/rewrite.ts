/**
 * `export --out FILE --watch`: FILE is written, then rewritten (atomically, mode 0600) whenever
 * a secret under the prefix changes; `--on-change CMD` runs after each rewrite. A failed fetch
 * keeps the old file, with a warning. Runs until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import type { SecretClient } from '@secret-svc/client';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { withClient } from '../lib/client-config.js';
import { UsageError } from '../lib/exit-codes.js';
import { warn } from '../lib/io.js';
import { streams } from '../lib/streams.js';
import { Debouncer } from './debounce.js';
import { newestRevision, problem, stopOnInterrupt, watchScope } from './feed.js';

export interface RewriteFlags {
  out?: string;
  watch?: boolean;
  onChange?: string;
}

export function addRewriteOptions(cmd: Command): Command {
  return cmd
    .option('--watch', 'with --out: keep running and rewrite FILE (replacing it) whenever one of the secrets changes, until Ctrl-C')
    .option('--on-change <command>', 'with --watch: run this shell command after each rewrite (e.g. a reload)');
}

/** Whether the flags ask for watching; a mistake in them is a usage error. */
export function wantsRewrites(o: RewriteFlags): boolean {
  if (o.watch && !o.out) throw new UsageError('--watch needs --out FILE: the file to keep up to date');
  if (o.onChange !== undefined && !o.watch) throw new UsageError('--on-change needs --watch');
  return Boolean(o.watch);
}

/** Keeps `file` equal to what `render` gives, until Ctrl-C (exit 0). */
export async function keepRewriting(
  cmd: Command, prefix: string, file: string, onChange: string | undefined, render: (client: SecretClient) => Promise<string>,
): Promise<void> {
  const interrupt = stopOnInterrupt();
  try {
    await withClient(cmd, async (client) => {
      const since = await newestRevision(client);
      let text = await render(client);
      write(file, text);
      warn(`wrote ${file}; rewriting it when a secret under ${prefix || '(all)'} changes (Ctrl-C to stop)\n`);
      const rewrite = new Debouncer(0, async () => {
        let next: string;
        try {
          next = await render(client);
        } catch (err) {
          warn(`warning: cannot fetch the changed secrets, ${file} is left as it was: ${problem(err)}\n`);
          return;
        }
        if (next === text) return;
        try {
          write(file, next);
        } catch (err) {
          warn(`warning: ${problem(err)}\n`);
          return;
        }
        text = next;
        warn(`rewrote ${file}\n`);
        if (onChange !== undefined) await runHook(onChange);
      });
      const { selector, concerns } = watchScope(prefix, []);
      try {
        for await (const batch of client.watch(selector, { since, signal: interrupt.signal })) if (concerns(batch)) rewrite.poke();
      } finally {
        await rewrite.close();
      }
    }, { reconnect: true });
  } finally {
    interrupt.release();
  }
}

function write(file: string, text: string): void {
  try {
    writeFileAtomic(file, text, true);
  } catch (err) {
    throw new UsageError(`cannot write ${file}: ${(err as Error).message}`);
  }
}

/** Runs the --on-change command through the shell, with this process's environment (no secrets in it). */
function runHook(command: string): Promise<void> {
  return new Promise((resolve) => {
    const env = Object.fromEntries(Object.entries(streams().env).filter((e): e is [string, string] => e[1] !== undefined));
    const hook = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    hook.once('error', (err) => { warn(`warning: --on-change: ${err.message}\n`); resolve(); });
    hook.once('exit', (code, signal) => {
      if (code !== 0) warn(`warning: --on-change exited with ${code ?? signal}\n`);
      resolve();
    });
  });
}
