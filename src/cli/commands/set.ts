/** `secret-svc set KEY [VALUE]`: create, or update the value when the key exists. */
import type { Command } from 'commander';
import { type SecretClient } from '@secret-svc/client';
import { ConflictError, type SecretMetadata } from '@secret-svc/protocol';
import { withClient } from '../context.js';
import { out, readStdin, stripOneNewline } from '../io.js';

/** Creates the secret, or on 409 updates it (the value, and the lists when given). */
export async function upsert(
  client: SecretClient, key: string, value: string, lists: { readers?: string[]; writers?: string[]; deleters?: string[] } = {},
): Promise<{ created: boolean; meta: SecretMetadata }> {
  try {
    return { created: true, meta: await client.create(key, value, lists) };
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    return { created: false, meta: await client.update(key, { value, ...lists }) };
  }
}

export async function valueArgOrStdin(value: string | undefined): Promise<string> {
  return value ?? stripOneNewline(await readStdin());
}

export function register(program: Command): void {
  program
    .command('set')
    .summary('create or update a secret (value from stdin when omitted)')
    .description('store VALUE under KEY: create it, or update its value if it exists; without VALUE, read it from ' +
      'stdin (one trailing newline removed) so it stays out of your shell history')
    .argument('<key>', 'the secret key')
    .argument('[value]', 'the value (prefer stdin)')
    .option('--json', 'print the resulting metadata as JSON')
    .action(async (key: string, value: string | undefined, o: { json?: boolean }, cmd: Command) => {
      const text = await valueArgOrStdin(value);
      const { created, meta } = await withClient(cmd, (c) => upsert(c, key, text));
      out(o.json ? `${JSON.stringify(meta, null, 2)}\n` : `${created ? 'created' : 'updated'} ${meta.key} (version ${meta.version})\n`);
    });
}
