/**
 * `secret-svc run [--prefix P] [--key K …] [naming flags] -- CMD ARGS…`: runs CMD with secrets
 * in its environment, named by the rule in env-names.ts. The values go from the reply straight into the child's environment: never
 * into a file or this process's own environment.
 */
import type { Command } from 'commander';
import type { SecretClient } from '@secret-svc/client';
import { ForbiddenError, NotFoundError } from '@secret-svc/protocol';
import { addAllowEmptyOption, listKeys, readKeys, requireSome } from '../lib/batch-read.js';
import { withClient } from '../lib/client-config.js';
import { addNamingOptions, checkEnvValue, NAMING_HELP, namingRule, variableNames, type NamingFlags } from '../lib/env-names.js';
import { UsageError } from '../lib/exit-codes.js';
import { runChild } from '../lib/child-process.js';
import { warn } from '../lib/io.js';
import { streams } from '../lib/streams.js';
import { collect } from '../lib/access-list-flags.js';
import { addReloadOptions, reloadStop, runReloading, type ReloadFlags } from '../watch/reload.js';

interface RunFlags extends NamingFlags, ReloadFlags {
  prefix?: string;
  key?: string[];
  allowEmpty?: boolean;
}

export function register(program: Command): void {
  const run = program
    .command('run')
    .summary('run a command with secrets in its environment')
    .description('read the secrets under --prefix and/or named by --key (batch reads) and run COMMAND with them added ' +
      'to its environment (they replace inherited variables of the same name); a --prefix under which you can read ' +
      `nothing is an error (exit 3) unless --allow-empty. ${NAMING_HELP} Signals (INT, TERM, HUP, ` +
      'QUIT, USR1, USR2) are passed on to COMMAND; its exit status is returned (128+N when killed by signal N). ' +
      'The values never touch the disk or this process\'s environment. Put -- before COMMAND.\n\n' +
      'Example: secret-svc run --prefix deploy-svc/ --strip-prefix -- node server.js')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--prefix <prefix>', 'every secret you can read whose key starts with this')
    .option('--key <key>', 'this secret (repeatable; it must exist and be readable)', collect);
  addReloadOptions(addAllowEmptyOption(addNamingOptions(run)))
    .action(async (command: string[], o: RunFlags, cmd: Command) => {
      const stop = reloadStop(o);
      if (o.prefix === undefined && !o.key?.length) throw new UsageError('give --prefix and/or --key: which secrets to pass');
      const rule = namingRule(o, o.prefix);
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
        if (o.prefix !== undefined) {
          const listed = new Set(underPrefix);
          requireSome(result.secrets.filter((s) => listed.has(s.key)).length, o.prefix, o.allowEmpty);
        }
        const found = result.secrets;
        const names = variableNames(found.map((s) => s.key), rule);
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
