/** `secret-svc create`: a new secret, with explicit lists. */
import type { Command } from 'commander';
import { withClient } from '../lib/client-config.js';
import { out } from '../lib/io.js';
import { addListOptions, listsFrom, type ListFlags } from '../lib/access-list-flags.js';
import { addValueOptions, valueFrom, type ValueFlags } from './set.js';

interface CreateFlags extends ListFlags, ValueFlags {
  json?: boolean;
}

export function register(program: Command): void {
  addValueOptions(addListOptions(program
    .command('create')
    .summary('create a secret, with lists')
    .description('create KEY (409, exit 6, if it exists); without VALUE, read it from stdin (one trailing newline ' +
      'removed) or from --file (byte for byte); lists not given default to [you] (administrators: [])')
    .argument('<key>', 'the secret key')
    .argument('[value]', 'the value (prefer stdin or --file)')))
    .option('--json', 'print the metadata as JSON')
    .action(async (key: string, value: string | undefined, o: CreateFlags, cmd: Command) => {
      const text = await valueFrom(value, o);
      const meta = await withClient(cmd, (c) => c.create(key, text, listsFrom(o)));
      out(o.json ? `${JSON.stringify(meta, null, 2)}\n` : `created ${meta.key} (version ${meta.version})\n`);
    });
}
