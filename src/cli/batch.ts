/** Reading many secrets: the keys under a prefix, then batch reads of up to MAX_READ_KEYS. */
import type { SecretClient } from '@secret-svc/client';
import { MAX_READ_KEYS, type Secret } from '@secret-svc/protocol';
import { progress } from './progress.js';

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
