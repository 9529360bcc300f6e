/** Reading many secrets: the keys under a prefix, then batch reads of up to MAX_READ_KEYS. */
import type { SecretClient } from '@secret-svc/client';
import { MAX_READ_KEYS, type Secret } from '@secret-svc/protocol';
import type { Command } from 'commander';
import { CliError, EXIT } from './exit-codes.js';
import { progress } from './progress-bar.js';

export interface BatchResult {
  secrets: Secret[];
  denied: string[];
  missing: string[];
}

export async function listKeys(client: SecretClient, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const m of client.listAll({ prefix, limit: 1000 })) keys.push(m.key);
  return keys;
}

/** Reads `keys` in batches; secrets come back sorted by key. */
export async function readKeys(client: SecretClient, keys: string[], showProgress = false): Promise<BatchResult> {
  const result: BatchResult = { secrets: [], denied: [], missing: [] };
  const bar = progress('read', keys.length, showProgress);
  try {
    for (let i = 0; i < keys.length; i += MAX_READ_KEYS) {
      const reply = await client.readMany(keys.slice(i, i + MAX_READ_KEYS));
      result.secrets.push(...reply.secrets);
      result.denied.push(...reply.denied);
      result.missing.push(...reply.missing);
      for (let n = 0; n < reply.secrets.length + reply.denied.length + reply.missing.length; n++) bar.tick();
    }
  } finally {
    bar.stop();
  }
  result.secrets.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return result;
}

export async function readAllUnder(client: SecretClient, prefix: string, showProgress = false): Promise<BatchResult> {
  return readKeys(client, await listKeys(client, prefix), showProgress);
}

/** `--allow-empty`, on the commands where a prefix that matches nothing is otherwise an error. */
export function addAllowEmptyOption(cmd: Command): Command {
  return cmd.option('--allow-empty', 'go on when PREFIX matches no secret you can read (else exit 3: a typo would pass unnoticed)');
}

/** A prefix under which nothing could be read is an error (exit 3) unless allowed. */
export function requireSome(readUnderPrefix: number, prefix: string, allowEmpty: boolean | undefined): void {
  if (readUnderPrefix > 0 || allowEmpty) return;
  throw new CliError(`no secret you can read ${prefix === '' ? 'at all' : `under "${prefix}"`} (check the prefix; ` +
    '--allow-empty to go on without any)', EXIT.notFound);
}
