/**
 * `secret-svc run [--prefix P] [--key K …] [naming flags] -- CMD ARGS…`: runs CMD with secrets
 * in its environment, named by the rule in env-names.ts. The values go from the reply straight into the child's environment: never
 * into a file or this process's own environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { ForbiddenError, NotFoundError } from '@secret-svc/protocol';
import { addAllowEmptyOption, listKeys, readKeys, requireSome } from '../batch.js';
import { withClient } from '../context.js';
import { addNamingOptions, NAMING_HELP, namingRule, variableNames, type NamingFlags } from '../env-names.js';
import { CliError, UsageError } from '../exit.js';
import { warn } from '../io.js';
import { streams } from '../runtime.js';
import { collect } from '../lists.js';

interface RunFlags extends NamingFlags {
  prefix?: string;
  key?: string[];
  allowEmpty?: boolean;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

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
  addAllowEmptyOption(addNamingOptions(run))
    .action(async (command: string[], o: RunFlags, cmd: Command) => {
      if (o.prefix === undefined && !o.key?.length) throw new UsageError('give --prefix and/or --key: which secrets to pass');
      const rule = namingRule(o, o.prefix);
      const wanted = o.key ?? [];
      const found = await withClient(cmd, async (client) => {
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
        return result.secrets;
      });
      const names = variableNames(found.map((s) => s.key), rule);
      const childEnv: Record<string, string> = {};
      for (const [k, v] of Object.entries(streams().env)) if (v !== undefined) childEnv[k] = v;
      for (const s of found) childEnv[names.get(s.key)!] = s.value;
      streams().exitCode = await runChild(command, childEnv);
    });
}

/** Runs the child with this process's stdio; resolves with its exit status. */
function runChild([file, ...args]: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    // Listen before spawning: the child can run (and be signalled about) before spawn() returns.
    let child: ChildProcess | undefined;
    const pending: NodeJS.Signals[] = [];
    const forward = (signal: NodeJS.Signals) => { if (child) child.kill(signal); else pending.push(signal); };
    for (const s of FORWARDED) process.on(s, forward);
    const done = () => { for (const s of FORWARDED) process.off(s, forward); };
    child = spawn(file!, args, { env, stdio: 'inherit' });
    for (const s of pending) child.kill(s);
    child.once('error', (err: NodeJS.ErrnoException) => {
      done();
      reject(err.code === 'ENOENT' ? new CliError(`${file}: command not found`, 127) : new CliError(`${file}: ${err.message}`, 126));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
