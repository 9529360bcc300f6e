/** `secret-svc import FILE`: create or update many secrets from JSON or dotenv. */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { parseDotenv } from '../dotenv.js';
import { withClient } from '../context.js';
import { UsageError } from '../exit.js';
import { out, readInput } from '../io.js';
import { progress } from '../progress.js';
import { upsert } from './set.js';

export interface ImportEntry {
  key: string;
  value: string;
  readers?: string[];
  writers?: string[];
  deleters?: string[];
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** JSON: {"KEY": "value", …} or [{key, value, readers?, writers?, deleters?, …}] (what export writes). */
export function parseJsonEntries(text: string): ImportEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError('import file is not valid JSON');
  }
  if (Array.isArray(data)) {
    return data.map((item: unknown, i) => {
      const o = item as Record<string, unknown> | null;
      if (typeof o !== 'object' || o === null || typeof o.key !== 'string' || typeof o.value !== 'string') {
        throw new UsageError(`entry ${i}: needs string "key" and "value"`);
      }
      const entry: ImportEntry = { key: o.key, value: o.value };
      for (const list of ['readers', 'writers', 'deleters'] as const) {
        if (o[list] === undefined) continue;
        if (!isStringArray(o[list])) throw new UsageError(`entry ${i}: "${list}" must be a list of slugs`);
        entry[list] = o[list];
      }
      return entry;
    });
  }
  if (typeof data === 'object' && data !== null) {
    return Object.entries(data).map(([key, value]) => {
      if (typeof value !== 'string') throw new UsageError(`"${key.slice(0, 64)}": value must be a string`);
      return { key, value };
    });
  }
  throw new UsageError('import JSON must be an object {"KEY": "value"} or an array of secrets');
}

/** `.env`, `prod.env`, `.env.local` are dotenv; anything else (and stdin) is JSON. */
function guessFormat(file: string): string {
  const name = basename(file);
  return name === '.env' || name.endsWith('.env') || name.startsWith('.env.') ? 'dotenv' : 'json';
}

export function register(program: Command): void {
  program
    .command('import')
    .summary('create or update secrets from JSON or dotenv')
    .description('create (or, when they exist, update) the secrets in FILE ("-" for stdin): JSON ' +
      '({"KEY":"value"} or the array `export` writes, lists included) or dotenv (KEY=value lines)')
    .argument('<file>', 'the file to read, or - for stdin')
    .option('--format <format>', 'json or dotenv (default: from the file name, else json)')
    .option('--prefix <prefix>', 'prepend this to every key (e.g. deploy-svc/ for a dotenv file)', '')
    .option('--no-progress', 'never show a progress bar')
    .action(async (file: string, o: { format?: string; prefix: string; progress: boolean }, cmd: Command) => {
      const format = o.format ?? guessFormat(file);
      if (format !== 'json' && format !== 'dotenv') throw new UsageError('--format must be json or dotenv');
      const text = await readInput(file);
      const entries: ImportEntry[] = format === 'json'
        ? parseJsonEntries(text)
        : parseDotenv(text).map(({ name, value }) => ({ key: name, value }));
      const counts = { created: 0, updated: 0 };
      await withClient(cmd, async (client) => {
        const bar = progress('import', entries.length, o.progress);
        try {
          for (const { key, value, ...lists } of entries) {
            const fullKey = o.prefix + key;
            try {
              const { created } = await upsert(client, fullKey, value, lists);
              counts[created ? 'created' : 'updated']++;
            } catch (err) {
              // Name the key that failed; the message never carries the value.
              if (err instanceof Error) err.message = `${fullKey}: ${err.message}`;
              throw err;
            }
            bar.tick();
          }
        } finally {
          bar.stop();
        }
      });
      out(`imported ${entries.length} secrets (${counts.created} created, ${counts.updated} updated)\n`);
    });
}
