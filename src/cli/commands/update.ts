/** `secret-svc update`: a new value and/or lists, with --if-version. */
import type { Command } from 'commander';
import type { SecretClient } from '@secret-svc/client';
import { NotFoundError, type SecretMetadata } from '@secret-svc/protocol';
import { withClient } from '../lib/client-config.js';
import { UsageError } from '../lib/exit-codes.js';
import { out } from '../lib/io.js';
import { addListEditOptions, addListOptions, editLists, hasListEdits, listsFrom, parseVersion, type ListEditFlags, type ListFlags } from '../lib/access-list-flags.js';
import { addValueOptions, valueFrom, type ValueFlags } from './set.js';

interface UpdateFlags extends ListFlags, ListEditFlags, ValueFlags {
  ifVersion?: number;
  json?: boolean;
}

async function metadataOf(client: SecretClient, key: string): Promise<SecretMetadata> {
  for await (const m of client.listAll({ prefix: key, limit: 1000 })) if (m.key === key) return m;
  throw new NotFoundError(`no such secret (or not visible to you): ${key}`);
}

export function register(program: Command): void {
  addValueOptions(addListEditOptions(addListOptions(program
    .command('update')
    .summary('update a value and/or lists, with --if-version')
    .description('update KEY: the value and/or the lists given (--reader etc. replace a list; --add-reader/' +
      '--remove-reader etc. change the current one, guarded by its version); without VALUE, --file and any list ' +
      'option, the value is read from stdin')
    .argument('<key>', 'the secret key')
    .argument('[value]', 'the new value (prefer stdin or --file)'))))
    .option('--if-version <n>', 'only if the current version is n (else 409, exit 6)', parseVersion)
    .option('--json', 'print the metadata as JSON')
    .action(async (key: string, value: string | undefined, o: UpdateFlags, cmd: Command) => {
      const lists = listsFrom(o);
      const edits = hasListEdits(o);
      const listsOnly = value === undefined && o.file === undefined && (Object.keys(lists).length > 0 || edits);
      const newValue = listsOnly ? undefined : await valueFrom(value, o);
      const meta = await withClient(cmd, async (c) => {
        let ifVersion = o.ifVersion;
        let edited = {};
        if (edits) {
          const current = await metadataOf(c, key);
          if (ifVersion !== undefined && ifVersion !== current.version) {
            throw new UsageError(`--if-version ${ifVersion}: ${key} is at version ${current.version}`);
          }
          edited = editLists(current, o, lists);
          ifVersion = current.version; // nobody changed the lists in between
        }
        const changes = {
          ...(newValue !== undefined ? { value: newValue } : {}),
          ...lists,
          ...edited,
          ...(ifVersion !== undefined ? { ifVersion } : {}),
        };
        return c.update(key, changes);
      });
      out(o.json ? `${JSON.stringify(meta, null, 2)}\n` : `updated ${meta.key} (version ${meta.version})\n`);
    });
}
