/**
 * `secret-svc run [--prefix P] [--strip-prefix] [--key K …] -- CMD ARGS…`: runs CMD with secrets
 * in its environment. The values go from the reply straight into the child's environment: never
 * into a file or this process's own environment.
 */
import type { Command } from 'commander';
import type { SecretClient } from '@secret-svc/client';
import { ForbiddenError, NotFoundError } from '@secret-svc/protocol';
import { listKeys, readKeys } from '../batch.js';
import { withClient } from '../context.js';
import { checkEnvValue, ENV_NAME_RULE, envNames } from '../env-names.js';
import { UsageError } from '../exit.js';
import { runChild } from '../child.js';
import { warn } from '../io.js';
import { streams } from '../runtime.js';
import { collect } from '../lists.js';
import { addReloadOptions, reloadStop, runReloading, type ReloadFlags } from '../watch/reload.js';

interface RunFlags extends ReloadFlags {
  prefix?: string;
  stripPrefix?: boolean;
  key?: string[];
}

export function register(program: Command): void {
  const run = program
    .command('run')
    .summary('run a command with secrets in its environment')
    .description('read the secrets under --prefix and/or named by --key (batch reads) and run COMMAND with them added ' +
      'to its environment (they replace inherited variables of the same name). Variable names: the key, without ' +
      `PREFIX with --strip-prefix; ${ENV_NAME_RULE}; two keys giving one name are an error. Signals (INT, TERM, HUP, ` +
      'QUIT, USR1, USR2) are passed on to COMMAND; its exit status is returned (128+N when killed by signal N). ' +
      'The values never touch the disk or this process\'s environment. Put -- before COMMAND.\n\n' +
      'Example: secret-svc run --prefix deploy-svc/ --strip-prefix -- node server.js')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--prefix <prefix>', 'every secret you can read whose key starts with this')
    .option('--strip-prefix', 'drop PREFIX from the variable names (deploy-svc/DB_URL -> DB_URL)')
    .option('--key <key>', 'this secret (repeatable; it must exist and be readable)', collect);
  addReloadOptions(run)
    .action(async (command: string[], o: RunFlags, cmd: Command) => {
      const stop = reloadStop(o);
      if (o.prefix === undefined && !o.key?.length) throw new UsageError('give --prefix and/or --key: which secrets to pass');
      if (o.stripPrefix && o.prefix === undefined) throw new UsageError('--strip-prefix needs --prefix');
      const wanted = o.key ?? [];
      const load = async (client: SecretClient): Promise<Record<string, string>> => {
        const underPrefix = o.prefix === undefined ? [] : await listKeys(client, o.prefix);
        const keys = [...new Set([...underPrefix, ...wanted])];
        const result = await readKeys(client, keys);
        const missing = result.missing.filter((k) => wanted.includes(k));
        if (missing.length) throw new NotFoundError(`no such secret (or not visible to you): ${missing.join(', ')}`);
        const denied = result.denied.filter((k) => wanted.includes(k));
        if (denied.length) throw new ForbiddenError(`you may not read: ${denied.join(', ')}`);
        for (const key of result.denied) warn(`warning: skipped ${key}: you may see it but not read it\n`);
        const found = result.secrets;
        const names = envNames(found.map((s) => s.key), o.stripPrefix ? o.prefix! : '');
        const childEnv: Record<string, string> = {};
        for (const [k, v] of Object.entries(streams().env)) if (v !== undefined) childEnv[k] = v;
        for (const s of found) {
          checkEnvValue(s.key, s.value);
          childEnv[names.get(s.key)!] = s.value;
        }
        return childEnv;
      };
      streams().exitCode = stop
        ? await runReloading(cmd, command, { prefix: o.prefix, keys: wanted }, stop, load)
        : await runChild(command, await withClient(cmd, load));
    });
}
