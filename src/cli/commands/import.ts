/** `secret-svc import FILE`: create or update many secrets from JSON or dotenv. */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { parseDotenv } from '../lib/dotenv.js';
import { withClient } from '../lib/client-config.js';
import { UsageError } from '../lib/exit-codes.js';
import type { SecretClient } from '@secret-svc/client';
import { isValidKey, SLUG_RE } from '@secret-svc/protocol';
import { readKeys } from '../lib/batch-read.js';
import { confirm, out, readInput, warn } from '../lib/io.js';
import { progress } from '../lib/progress-bar.js';
import { upsert } from './set.js';

/** More new top-level keys than this at once is probably a forgotten --prefix. */
const TOP_LEVEL_LIMIT = 20;

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

/** Every problem with the entries, found before anything is written; empty when all are fine. */
export function problems(entries: ImportEntry[], prefix: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const [i, e] of entries.entries()) {
    const key = prefix + e.key;
    const where = `entry ${i + 1} (${JSON.stringify(key.slice(0, 80))})`;
    if (!isValidKey(key)) found.push(`${where}: invalid key (1-256 chars, segments of [A-Za-z0-9_.-] joined by "/")`);
    if (seen.has(key)) found.push(`${where}: the key appears twice`);
    seen.add(key);
    for (const list of ['readers', 'writers', 'deleters'] as const) {
      const bad = (e[list] ?? []).filter((s) => !SLUG_RE.test(s));
      if (bad.length) found.push(`${where}: ${list}: invalid slug ${JSON.stringify(bad[0]!.slice(0, 64))}`);
    }
  }
  return found;
}

type Action = 'create' | 'update' | 'unchanged';

const sameList = (a: string[] | undefined, b: string[]) => a === undefined || (a.length === b.length && a.every((s, i) => s === b[i]));

/** create / update / unchanged for each entry, from a batch read of the keys as they are now. */
async function plan(client: SecretClient, entries: ImportEntry[], prefix: string): Promise<Action[]> {
  const { secrets } = await readKeys(client, entries.map((e) => prefix + e.key));
  const current = new Map(secrets.map((s) => [s.key, s]));
  return entries.map((e) => {
    const now = current.get(prefix + e.key);
    if (!now) return 'create'; // missing, or visible but unreadable: create answers 409 and we update
    const same = now.value === e.value && sameList(e.readers, now.readers) && sameList(e.writers, now.writers) && sameList(e.deleters, now.deleters);
    return same ? 'unchanged' : 'update';
  });
}

const summary = (c: Record<string, number>) => `${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged`;

export function register(program: Command): void {
  program
    .command('import')
    .summary('create or update secrets from JSON or dotenv')
    .description('create (or, when they exist, update) the secrets in FILE ("-" for stdin): JSON ' +
      '({"KEY":"value"} or the array `export` writes, lists included) or dotenv (KEY=value lines). Every entry is ' +
      'checked before anything is written; --dry-run prints the plan (create / update / unchanged) and writes ' +
      `nothing; writing more than ${TOP_LEVEL_LIMIT} top-level keys (no "/" in them) needs confirmation or --yes`)
    .argument('<file>', 'the file to read, or - for stdin')
    .option('--format <format>', 'json or dotenv (default: from the file name, else json)')
    .option('--prefix <prefix>', 'prepend this to every key (e.g. deploy-svc/ for a dotenv file)', '')
    .option('--dry-run', 'print what would be created, updated or left unchanged; write nothing')
    .option('-y, --yes', `do not ask before writing more than ${TOP_LEVEL_LIMIT} top-level keys`)
    .option('--no-progress', 'never show a progress bar')
    .action(async (file: string, o: { format?: string; prefix: string; dryRun?: boolean; yes?: boolean; progress: boolean }, cmd: Command) => {
      const format = o.format ?? guessFormat(file);
      if (format !== 'json' && format !== 'dotenv') throw new UsageError('--format must be json or dotenv');
      const text = await readInput(file);
      const entries: ImportEntry[] = format === 'json'
        ? parseJsonEntries(text)
        : parseDotenv(text).map(({ name, value }) => ({ key: name, value }));
      const found = problems(entries, o.prefix);
      if (found.length) {
        for (const line of found.slice(0, 20)) warn(`${line}\n`);
        if (found.length > 20) warn(`… and ${found.length - 20} more\n`);
        throw new UsageError(`${found.length} invalid entr${found.length === 1 ? 'y' : 'ies'} in ${file}; nothing was written`);
      }
      const counts = { created: 0, updated: 0, unchanged: 0 };
      await withClient(cmd, async (client) => {
        const actions = await plan(client, entries, o.prefix);
        if (o.dryRun) {
          const planned = { create: 0, update: 0, unchanged: 0 };
          entries.forEach((e, i) => { planned[actions[i]!]++; out(`${actions[i]!.padEnd(9)}  ${o.prefix}${e.key}\n`); });
          out(`dry run: ${planned.create} to create, ${planned.update} to update, ${planned.unchanged} unchanged; nothing written\n`);
          return;
        }
        const topLevel = entries.filter((e, i) => actions[i] !== 'unchanged' && !(o.prefix + e.key).includes('/')).length;
        if (topLevel > TOP_LEVEL_LIMIT) await confirm(`write ${topLevel} top-level keys (no "/"; did you mean --prefix?)`, o.yes);
        const bar = progress('import', entries.length, o.progress);
        let at = 0;
        try {
          for (const [i, { key, value, ...lists }] of entries.entries()) {
            at = i;
            if (actions[i] === 'unchanged') {
              counts.unchanged++;
            } else {
              const { created } = await upsert(client, o.prefix + key, value, lists, actions[i] === 'update');
              counts[created ? 'created' : 'updated']++;
            }
            bar.tick();
          }
        } catch (err) {
          bar.stop();
          // Name the key that failed; the message never carries the value.
          if (err instanceof Error) err.message = `${o.prefix}${entries[at]!.key}: ${err.message}`;
          warn(`import stopped: ${summary(counts)}, ${entries.length - at} not written\n`);
          throw err;
        }
        bar.stop();
      });
      if (!o.dryRun) out(`imported ${entries.length} secrets (${summary(counts)})\n`);
    });
}
