/** `secret-svc create` and `secret-svc update`: writes with explicit lists and --if-version. */
import type { Command } from 'commander';
import { withClient } from '../context.js';
import { UsageError } from '../exit.js';
import { out } from '../io.js';
import { addListOptions, listsFrom, parseVersion, type ListFlags } from '../lists.js';
import { valueArgOrStdin } from './set.js';

interface WriteFlags extends ListFlags {
  ifVersion?: number;
  json?: boolean;
}

export function register(program: Command): void {
  addListOptions(program
    .command('create')
    .summary('create a secret, with lists')
    .description('create KEY (409, exit 6, if it exists); without VALUE, read it from stdin (one trailing newline removed); ' +
      'lists not given default to [you] (administrators: [])')
    .argument('<key>', 'the secret key')
    .argument('[value]', 'the value (prefer stdin)'))
    .option('--json', 'print the metadata as JSON')
    .action(async (key: string, value: string | undefined, o: WriteFlags, cmd: Command) => {
      const text = await valueArgOrStdin(value);
      const meta = await withClient(cmd, (c) => c.create(key, text, listsFrom(o)));
      out(o.json ? `${JSON.stringify(meta, null, 2)}\n` : `created ${meta.key} (version ${meta.version})\n`);
    });

  addListOptions(program
    .command('update')
    .summary('update a value and/or lists, with --if-version')
    .description('update KEY: the value and/or the lists given (each list replaces the current one); without VALUE and ' +
      'without any list option, the value is read from stdin')
    .argument('<key>', 'the secret key')
    .argument('[value]', 'the new value (prefer stdin)'))
    .option('--if-version <n>', 'only if the current version is n (else 409, exit 6)', parseVersion)
    .option('--json', 'print the metadata as JSON')
    .action(async (key: string, value: string | undefined, o: WriteFlags, cmd: Command) => {
      const lists = listsFrom(o);
      const listsOnly = value === undefined && Object.keys(lists).length > 0;
      const changes = {
        ...(listsOnly ? {} : { value: await valueArgOrStdin(value) }),
        ...lists,
        ...(o.ifVersion !== undefined ? { ifVersion: o.ifVersion } : {}),
      };
      if (!('value' in changes) && Object.keys(lists).length === 0) throw new UsageError('nothing to update');
      const meta = await withClient(cmd, (c) => c.update(key, changes));
      out(o.json ? `${JSON.stringify(meta, null, 2)}\n` : `updated ${meta.key} (version ${meta.version})\n`);
    });
}
