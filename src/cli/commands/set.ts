/** `secret-svc set KEY [VALUE]`: create, or update the value when the key exists. */
import type { Command } from 'commander';
import { type SecretClient } from '@secret-svc/client';
import { ConflictError, NotFoundError, type SecretMetadata } from '@secret-svc/protocol';
import { withClient } from '../lib/client-config.js';
import { UsageError } from '../lib/exit-codes.js';
import { out, readFileBytes, readStdinBytes, strictUtf8, stripOneNewline } from '../lib/io.js';

/**
 * Updates the secret when it exists, else creates it (the value, and the lists when given). It
 * asks first (a one-entry list: the key itself sorts first under its own prefix), so the audit
 * trail records the write that happened rather than a refused create before it. A race with
 * another writer (created or deleted in between) still lands: the other write is then tried.
 */
export async function upsert(
  client: SecretClient, key: string, value: string, lists: { readers?: string[]; writers?: string[]; deleters?: string[] } = {},
  /** Whether the key exists, when the caller knows already (import's plan). */
  known?: boolean,
): Promise<{ created: boolean; meta: SecretMetadata }> {
  const exists = known ?? (await client.list({ prefix: key, limit: 1 })).secrets[0]?.key === key;
  const create = async () => ({ created: true, meta: await client.create(key, value, lists) });
  const update = async () => ({ created: false, meta: await client.update(key, { value, ...lists }) });
  try {
    return exists ? await update() : await create();
  } catch (err) {
    if (exists ? err instanceof NotFoundError : err instanceof ConflictError) return exists ? create() : update();
    throw err;
  }
}

export interface ValueFlags {
  file?: string;
  base64?: boolean;
}

/**
 * The value from the argument, --file (as is) or stdin (one trailing newline removed). Bytes must
 * be UTF-8 text; with --base64 any bytes are stored as their base64 text.
 */
export async function valueFrom(value: string | undefined, o: ValueFlags = {}): Promise<string> {
  if (value !== undefined && o.file !== undefined) throw new UsageError('give the value or --file, not both');
  if (value !== undefined) return o.base64 ? Buffer.from(value, 'utf8').toString('base64') : value;
  const bytes = o.file !== undefined ? readFileBytes(o.file) : await readStdinBytes();
  if (o.base64) return Buffer.from(bytes).toString('base64');
  const text = strictUtf8(bytes, o.file ?? 'the value on stdin');
  return o.file !== undefined ? text : stripOneNewline(text);
}

export function addValueOptions(cmd: Command): Command {
  return cmd
    .option('--file <path>', 'read the value from this file, byte for byte (no newline removed)')
    .option('--base64', 'store the base64 text of the bytes (for binary data; `get --base64-decode` restores them)');
}

export function register(program: Command): void {
  addValueOptions(program
    .command('set')
    .summary('create or update a secret (value from stdin or --file when omitted)')
    .description('store VALUE under KEY: update its value if it exists, else create it; without VALUE, read it from ' +
      'stdin (one trailing newline removed) or from --file (byte for byte), so it stays out of your shell history. ' +
      'The value must be UTF-8 text (else exit 2); store binary data with --base64')
    .argument('<key>', 'the secret key')
    .argument('[value]', 'the value (prefer stdin or --file)'))
    .option('--json', 'print the resulting metadata as JSON')
    .action(async (key: string, value: string | undefined, o: ValueFlags & { json?: boolean }, cmd: Command) => {
      const text = await valueFrom(value, o);
      const { created, meta } = await withClient(cmd, (c) => upsert(c, key, text));
      out(o.json ? `${JSON.stringify(meta, null, 2)}\n` : `${created ? 'created' : 'updated'} ${meta.key} (version ${meta.version})\n`);
    });
}
