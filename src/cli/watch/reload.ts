/**
 * `run --watch`: the command is restarted when a secret it was given changes, or one appears
 * under its prefix. The new values are fetched first (a failed fetch keeps the running command,
 * with a warning); changes are debounced; the old command gets --restart-signal and, after
 * --restart-grace, SIGKILL. A command that ends by itself ends the run with its status.
 */
import { constants } from 'node:os';
import type { Command } from 'commander';
import type { SecretClient } from '@secret-svc/client';
import { ChildSupervisor, type StopOptions } from '../lib/child-process.js';
import { withClient } from '../lib/client-config.js';
import { parseDuration } from '../lib/duration.js';
import { UsageError } from '../lib/exit-codes.js';
import { warn } from '../lib/io.js';
import { Debouncer } from './debounce.js';
import { newestRevision, problem, watchScope } from './feed.js';

export const RELOAD_DEBOUNCE_MS = 1000;

export interface ReloadFlags {
  watch?: boolean;
  restartSignal?: string;
  restartGrace?: string;
}

export function addReloadOptions(cmd: Command): Command {
  return cmd
    .option('--watch', 'keep running: restart COMMAND (with the new values) when one of its secrets changes or one ' +
      'appears under --prefix; changes within 1 s make one restart; a failed fetch keeps COMMAND running')
    .option('--restart-signal <signal>', 'with --watch: the signal that stops COMMAND for a restart (default SIGTERM)')
    .option('--restart-grace <duration>', 'with --watch: how long COMMAND may take to stop before SIGKILL (default 10s)');
}

/** How a restart stops the command, from the flags (undefined without --watch); any mistake is a usage error. */
export function reloadStop(o: ReloadFlags & { prefix?: string; key?: string[] }): StopOptions | undefined {
  if (!o.watch) {
    if (o.restartSignal !== undefined || o.restartGrace !== undefined) throw new UsageError('--restart-signal and --restart-grace need --watch');
    return undefined;
  }
  if (o.prefix === undefined && !o.key?.length) throw new UsageError('--watch needs --prefix and/or --key: the secrets to pass and to watch for changes');
  return { signal: signalNamed(o.restartSignal ?? 'SIGTERM'), graceMs: graceMs(o.restartGrace ?? '10s') };
}

function signalNamed(text: string): NodeJS.Signals {
  const name = (text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`) as NodeJS.Signals;
  if (!(name in constants.signals)) throw new UsageError(`--restart-signal: unknown signal "${text}" (e.g. SIGTERM, SIGINT, SIGHUP, SIGQUIT)`);
  return name;
}

function graceMs(text: string): number {
  try {
    return parseDuration(text) * 1000;
  } catch {
    throw new UsageError(`--restart-grace must be a positive duration (e.g. 10s, 2m; got "${text}")`);
  }
}

/**
 * Runs `command` with the environment `load` gives, restarting it on changes until it ends by
 * itself; resolves with its status. A failure of the first load fails the run (nothing started).
 */
export function runReloading(
  cmd: Command, command: string[], scope: { prefix?: string; keys: string[] }, stop: StopOptions,
  load: (client: SecretClient) => Promise<Record<string, string>>,
): Promise<number> {
  return withClient(cmd, async (client) => {
    const since = await newestRevision(client);
    let env = await load(client);
    const child = new ChildSupervisor(command);
    const { selector, concerns } = watchScope(scope.prefix, scope.keys);
    const reload = new Debouncer(RELOAD_DEBOUNCE_MS, async () => {
      let next: Record<string, string>;
      try {
        next = await load(client);
      } catch (err) {
        warn(`secret-svc: warning: cannot fetch the changed secrets, ${command[0]} keeps running with the old ones: ${problem(err)}\n`);
        return;
      }
      if (sameEnv(next, env)) return;
      env = next;
      warn(`secret-svc: secrets changed; restarting ${command[0]}\n`);
      await child.restart(env, stop);
    });
    const watching = new AbortController();
    child.start(env);
    const follow = (async () => {
      for await (const batch of client.watch(selector, { since, signal: watching.signal })) if (concerns(batch)) reload.poke();
    })().catch((err: unknown) => {
      // E.g. the credential was revoked: the command keeps running, but nothing restarts it any more.
      warn(`secret-svc: warning: no longer watching for changes: ${problem(err)}\n`);
    });
    try {
      return await child.exited;
    } finally {
      watching.abort();
      await reload.close();
      child.dispose();
      await follow;
    }
  }, { reconnect: true });
}

function sameEnv(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
