/** `secret-svc ls [PREFIX]`: the visible secrets' metadata, as a table or JSON. */
import type { Command } from 'commander';
import type { SecretMetadata } from '@secret-svc/protocol';
import { withClient } from '../lib/client-config.js';
import { out, warn } from '../lib/io.js';

export function register(program: Command): void {
  program
    .command('ls')
    .summary('list visible secrets (table or --json)')
    .description('list the secrets you can see (whose key starts with PREFIX): key, version, updated, lists')
    .argument('[prefix]', 'only keys starting with this', '')
    .option('--json', 'print a JSON array of metadata instead of a table')
    .action(async (prefix: string, o: { json?: boolean }, cmd: Command) => {
      const secrets = await withClient(cmd, async (c) => {
        const all: SecretMetadata[] = [];
        for await (const m of c.listAll({ prefix, limit: 1000 })) all.push(m);
        return all;
      });
      if (o.json) out(`${JSON.stringify(secrets, null, 2)}\n`);
      else if (secrets.length === 0) warn('no secrets\n');
      else out(table(secrets));
    });
}

export function table(secrets: SecretMetadata[]): string {
  const rows = [
    ['KEY', 'VERSION', 'UPDATED', 'READERS', 'WRITERS', 'DELETERS'],
    ...secrets.map((s) => [s.key, String(s.version), s.updatedAt, s.readers.join(','), s.writers.join(','), s.deleters.join(',')]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}
